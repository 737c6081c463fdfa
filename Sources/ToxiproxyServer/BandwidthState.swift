import NIOCore

/// The bandwidth toxic of one connection direction: data leaves at `rate` KB/s (1 KB = 1,000 bytes), in
/// pieces of at most 100 ms worth of data, each released when its transmission time has passed. `rate` 0
/// holds everything until the toxic changes or goes (the reference's way to partition a network).
struct BandwidthState {
    private(set) var rate: Int64
    private(set) var active: Bool
    private var queue = ReleaseQueue()
    /// With rate 0 nothing has a release time; held here in order instead.
    private var stalled = CircularBuffer<StreamElement>()

    init(rate: Int64, active: Bool) {
        self.rate = rate
        self.active = active
    }

    var nextDeadline: NIODeadline? { self.queue.nextDeadline }
    var heldCount: Int { self.queue.count + self.stalled.count }

    /// Elements to pass on now (in order); the rest are held.
    mutating func receive(_ element: StreamElement, now: NIODeadline) -> [StreamElement] {
        self.schedule(element, now: now)
        return self.releaseDue(now: now)
    }

    mutating func releaseDue(now: NIODeadline) -> [StreamElement] {
        self.queue.releaseDue(now: now)
    }

    /// A new rate applies to everything held, timed again from `now`.
    mutating func reconfigure(rate: Int64, active: Bool, now: NIODeadline) -> [StreamElement] {
        self.rate = rate
        self.active = active
        let held = self.drain()
        for element in held {
            self.schedule(element, now: now)
        }
        return self.releaseDue(now: now)
    }

    mutating func drain() -> [StreamElement] {
        let elements = self.queue.drain() + Array(self.stalled)
        self.stalled.removeAll()
        return elements
    }

    private mutating func schedule(_ element: StreamElement, now: NIODeadline) {
        guard self.active else {
            self.queue.append(element, releaseAt: now)
            return
        }
        guard self.rate > 0, self.stalled.isEmpty else {
            self.stalled.append(element)
            return
        }
        guard case .chunk(var chunk) = element else {
            self.queue.append(element, releaseAt: now)
            return
        }
        // 100 ms worth of data per piece, as the reference slices large chunks.
        let pieceSize = Int(min(self.rate.multipliedReportingOverflow(by: 100).partialValue, 1 << 30))
        var start = max(now, self.queue.lastRelease ?? now)
        while chunk.bytes.readableBytes > 0 {
            let size = min(pieceSize > 0 ? pieceSize : 1 << 30, chunk.bytes.readableBytes)
            let piece = Chunk(bytes: chunk.bytes.readSlice(length: size)!, timestamp: chunk.timestamp)
            start = start + Self.transmissionTime(bytes: size, rate: self.rate)
            self.queue.append(.chunk(piece), releaseAt: start)
        }
    }

    /// `bytes` at `rate` KB/s: bytes × 10⁶ / rate nanoseconds.
    static func transmissionTime(bytes: Int, rate: Int64) -> TimeAmount {
        let (product, overflow) = Int64(bytes).multipliedReportingOverflow(by: 1_000_000)
        return .nanoseconds(overflow ? .max : product / rate)
    }
}
