import NIOCore
import ToxiproxyModel

/// Runs `LatencyState` on the event loop with one timer, armed for the earliest held chunk.
final class LatencyStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var state: LatencyState
    var isActive: Bool { self.state.active }
    private let timer: StageTimer

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.timer = StageTimer(eventLoop: chain.eventLoop)
        self.state = LatencyState(
            latency: toxic.attributes["latency"],
            jitter: toxic.attributes["jitter"],
            active: Toxicity.draw(toxic.toxicity)
        )
    }

    func receive(_ element: StreamElement) {
        switch self.state.receive(element, now: .now(), jitterOffset: self.drawJitter()) {
        case .forward(let element):
            self.chain.forward(element, from: self)
        case .hold:
            self.armTimer()
        }
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.reconfigure()
    }

    func restart() {
        self.reconfigure()
    }

    func remove() -> [StreamElement] {
        self.timer.cancel()
        return self.state.drain()
    }

    func shutdown() {
        self.timer.cancel()
        _ = self.state.drain()
    }

    private func reconfigure() {
        self.state.reconfigure(
            latency: self.toxic.attributes["latency"],
            jitter: self.toxic.attributes["jitter"],
            active: Toxicity.draw(self.toxic.toxicity),
            now: .now()
        )
        self.releaseDue()
    }

    private func drawJitter() -> Int64 {
        let jitter = self.state.jitter
        guard jitter > 0, self.state.active else { return 0 }
        return Int64.random(in: -jitter..<jitter)
    }

    private func releaseDue() {
        for element in self.state.releaseDue(now: .now()) {
            self.chain.forward(element, from: self)
        }
        self.armTimer()
    }

    private func armTimer() {
        self.timer.arm(at: self.state.nextDeadline) { [unowned self] in
            self.chain.performEvent { self.releaseDue() }
        }
    }
}
