import NIOCore
import ToxiproxyModel

/// `limit_data`: forwards until `bytes` bytes have passed in this direction (the chunk that crosses the limit
/// is cut), then closes the whole connection once those bytes are written. The count
/// survives updates of the toxic; a toxic added anew starts from zero.
final class LimitDataStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    private unowned let chain: DirectionChain
    private var toxic: Toxic
    private var active: Bool
    var isActive: Bool { self.active }
    private var forwarded: Int64 = 0
    private var ended = false

    init(toxic: Toxic, chain: DirectionChain) {
        self.name = toxic.name
        self.chain = chain
        self.toxic = toxic
        self.active = Toxicity.draw(toxic.toxicity)
    }

    func receive(_ element: StreamElement) {
        guard !self.ended else {
            self.chain.discard(element)
            return
        }
        guard self.active, case .chunk(var chunk) = element else {
            if case .chunk(let chunk) = element { self.forwarded += Int64(chunk.bytes.readableBytes) }
            self.chain.forward(element, from: self)
            return
        }
        let remaining = max(0, self.toxic.attributes["bytes"] - self.forwarded)
        let size = Int64(chunk.bytes.readableBytes)
        if size < remaining {
            self.forwarded += size
            self.chain.forward(element, from: self)
            return
        }
        let dropped = Int(size - remaining)
        if remaining > 0 {
            chunk.bytes = chunk.bytes.getSlice(at: chunk.bytes.readerIndex, length: Int(remaining))!
            self.forwarded += remaining
            self.chain.forward(.chunk(chunk), from: self)
        }
        if dropped > 0 {
            self.chain.discard(byteCount: dropped)
        }
        self.ended = true
        self.chain.countCut()
        self.chain.forward(.close, from: self)
    }

    func update(_ toxic: Toxic) {
        self.toxic = toxic
        self.restart()
    }

    func restart() {
        self.active = Toxicity.draw(self.toxic.toxicity)
    }

    func remove() -> [StreamElement] { [] }
    func shutdown() {}
}
