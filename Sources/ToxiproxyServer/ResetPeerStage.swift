import NIOCore
import ToxiproxyModel

/// `reset_peer`: waits for the first element in its direction (an idle connection is never reset), drops
/// it and everything after it, and closes the connection `timeout` ms later. The close is a reset (RST)
/// when the link was accepted with this toxic already in place (see `ConnectionLink.resetsOnClose`).
final class ResetPeerStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var active: Bool
    var isActive: Bool { self.active }
    private var triggered = false
    private let timer: StageTimer

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.active = Toxicity.draw(toxic.toxicity)
        self.timer = StageTimer(eventLoop: chain.eventLoop)
    }

    func receive(_ element: StreamElement) {
        guard self.active || self.triggered else {
            self.chain.forward(element, from: self)
            return
        }
        self.chain.discard(element)
        guard !self.triggered else { return }
        // Like the reference's wait, this one is not interrupted by later changes to the toxic.
        self.triggered = true
        let timeout = max(0, self.toxic.attributes["timeout"])
        self.timer.arm(at: .now() + .milliseconds(timeout)) { [unowned self] in
            self.chain.closeConnection()
        }
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.restart()
    }

    func restart() {
        self.active = Toxicity.draw(self.toxic.toxicity)
    }

    func remove() -> [StreamElement] {
        self.timer.cancel()
        return []
    }

    func shutdown() {
        self.timer.cancel()
    }
}
