import NIOCore
import ToxiproxyModel

/// `slow_close`: data passes untouched; the source's end (a half-close or the connection's close) is held for
/// `delay` ms before it acts on the destination.
final class SlowCloseStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var active: Bool
    var isActive: Bool { self.active }
    /// The end and when it arrived, while it is held.
    private var heldEnd: (element: StreamElement, arrival: NIODeadline)?
    private let timer: StageTimer

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.active = Toxicity.draw(toxic.toxicity)
        self.timer = StageTimer(eventLoop: chain.eventLoop)
    }

    func receive(_ element: StreamElement) {
        guard element.isEnd, self.active else {
            self.chain.forward(element, from: self)
            return
        }
        self.heldEnd = (element, .now())
        self.armTimer()
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.restart()
    }

    func restart() {
        self.active = Toxicity.draw(self.toxic.toxicity)
        self.armTimer()
    }

    func remove() -> [StreamElement] {
        self.timer.cancel()
        return self.takeEnd()
    }

    func shutdown() {
        self.timer.cancel()
        self.heldEnd = nil
    }

    private func armTimer() {
        guard let arrival = self.heldEnd?.arrival else { return }
        let delay = self.active ? self.toxic.attributes["delay"] : 0
        self.timer.arm(at: arrival + .milliseconds(max(0, delay))) { [unowned self] in
            self.chain.performEvent {
                for element in self.takeEnd() { self.chain.forward(element, from: self) }
            }
        }
    }

    private func takeEnd() -> [StreamElement] {
        guard let (element, _) = self.heldEnd else { return [] }
        self.heldEnd = nil
        return [element]
    }
}
