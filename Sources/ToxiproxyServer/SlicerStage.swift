import NIOCore
import ToxiproxyModel

/// `slicer`: cuts each chunk into smaller pieces (`SlicerState`) sent `delay` µs apart.
final class SlicerStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var active: Bool
    var isActive: Bool { self.active }
    private var queue = ReleaseQueue()
    private let timer: StageTimer

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.active = Toxicity.draw(toxic.toxicity)
        self.timer = StageTimer(eventLoop: chain.eventLoop)
    }

    func receive(_ element: StreamElement) {
        let now = NIODeadline.now()
        guard self.active, case .chunk(var chunk) = element else {
            self.queue.append(element, releaseAt: now)
            self.releaseDue()
            return
        }
        var generator = SystemRandomNumberGenerator()
        let pieces = SlicerState.pieces(
            length: chunk.bytes.readableBytes,
            averageSize: self.toxic.attributes["average_size"],
            sizeVariation: self.toxic.attributes["size_variation"],
            using: &generator
        )
        let gap = TimeAmount.microseconds(max(0, self.toxic.attributes["delay"]))
        var release = self.queue.lastRelease.map { max(now, $0 + gap) } ?? now
        for length in pieces {
            let piece = Chunk(bytes: chunk.bytes.readSlice(length: length)!, timestamp: chunk.timestamp)
            self.queue.append(.chunk(piece), releaseAt: release)
            release = release + gap
        }
        self.releaseDue()
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.restart()
    }

    func restart() {
        self.active = Toxicity.draw(self.toxic.toxicity)
    }

    /// What is left goes on at once, in order.
    func remove() -> [StreamElement] {
        self.timer.cancel()
        return self.queue.drain()
    }

    func shutdown() {
        self.timer.cancel()
        _ = self.queue.drain()
    }

    private func releaseDue() {
        for element in self.queue.releaseDue(now: .now()) {
            self.chain.forward(element, from: self)
        }
        self.timer.arm(at: self.queue.nextDeadline) { [unowned self] in
            self.chain.performEvent { self.releaseDue() }
        }
    }
}
