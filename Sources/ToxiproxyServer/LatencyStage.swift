import NIOCore
import ToxiproxyModel

/// Runs `LatencyState` on the event loop with one timer, armed for the earliest held chunk.
final class LatencyStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var state: LatencyState
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
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
        self.cancelTimer()
        return self.state.drain()
    }

    func shutdown() {
        self.cancelTimer()
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
        guard let deadline = self.state.nextDeadline else {
            self.cancelTimer()
            return
        }
        guard deadline != self.timerDeadline else { return }
        self.timer?.cancel()
        self.timerDeadline = deadline
        self.timer = self.chain.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.timerDeadline = nil
            self.chain.performEvent { self.releaseDue() }
        }
    }

    private func cancelTimer() {
        self.timer?.cancel()
        self.timer = nil
        self.timerDeadline = nil
    }
}
