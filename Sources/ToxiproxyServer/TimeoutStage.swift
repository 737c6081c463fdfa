import NIOCore
import ToxiproxyModel

/// Runs `TimeoutState` on the event loop: drops data and closes the connection when the idle timer fires.
final class TimeoutStage: ToxicStage {
    let name: String
    /// Removing a timeout toxic closes the connections it was attached to, whatever the toxicity draw.
    var closesConnectionOnRemoval: Bool { true }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var state: TimeoutState
    var isActive: Bool { self.state.active }
    private let timer: StageTimer

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.timer = StageTimer(eventLoop: chain.eventLoop)
        self.state = TimeoutState(
            timeout: toxic.attributes["timeout"],
            active: Toxicity.draw(toxic.toxicity),
            now: .now()
        )
        self.armTimer()
    }

    func receive(_ element: StreamElement) {
        switch self.state.receive(element, now: .now()) {
        case .forward:
            if element.isEnd { self.timer.cancel() }
            self.chain.forward(element, from: self)
        case .drop:
            self.chain.discard(element)
            self.armTimer()
        }
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.restart()
    }

    func restart() {
        self.state.reconfigure(
            timeout: self.toxic.attributes["timeout"],
            active: Toxicity.draw(self.toxic.toxicity),
            now: .now()
        )
        self.armTimer()
    }

    func remove() -> [StreamElement] {
        self.timer.cancel()
        return []
    }

    func shutdown() {
        self.timer.cancel()
    }

    private func armTimer() {
        self.timer.arm(at: self.state.deadline) { [unowned self] in
            if self.state.isExpired(now: .now()) {
                self.chain.closeConnection()
            } else {
                self.armTimer()
            }
        }
    }
}
