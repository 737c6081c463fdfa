import NIOCore
import ToxiproxyModel

/// Runs `BandwidthState` on the event loop with one timer for the next piece due.
final class BandwidthStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var state: BandwidthState
    var isActive: Bool { self.state.active }
    private let timer: StageTimer

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.timer = StageTimer(eventLoop: chain.eventLoop)
        self.state = BandwidthState(rate: toxic.attributes["rate"], active: Toxicity.draw(toxic.toxicity))
    }

    func receive(_ element: StreamElement) {
        self.forward(self.state.receive(element, now: .now()))
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.restart()
    }

    func restart() {
        let released = self.state.reconfigure(
            rate: self.toxic.attributes["rate"],
            active: Toxicity.draw(self.toxic.toxicity),
            now: .now()
        )
        self.forward(released)
    }

    func remove() -> [StreamElement] {
        self.timer.cancel()
        return self.state.drain()
    }

    func shutdown() {
        self.timer.cancel()
        _ = self.state.drain()
    }

    private func forward(_ elements: [StreamElement]) {
        for element in elements {
            self.chain.forward(element, from: self)
        }
        self.timer.arm(at: self.state.nextDeadline) { [unowned self] in
            self.chain.performEvent { self.forward(self.state.releaseDue(now: .now())) }
        }
    }
}
