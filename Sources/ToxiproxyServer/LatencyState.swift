import NIOCore

/// The latency toxic of one connection direction, as a value-type state machine with injected time.
///
/// Each chunk's target delay is `latency + J` (J drawn by the caller in `[-jitter, jitter-1]`), measured
/// from the chunk's arrival; a chunk never leaves before the one ahead of it, so order is kept, and the
/// delay of a chunk runs while earlier ones wait, so throughput is kept under latency. A released chunk's
/// timestamp is advanced by its delay so that a later latency stage adds on top (stacking).
struct LatencyState {
    private struct Held {
        var element: StreamElement
        var offset: Int64
        var release: NIODeadline
    }

    private(set) var latency: Int64
    private(set) var jitter: Int64
    /// False when the toxicity draw said this stage passes data through untouched.
    private(set) var active: Bool
    private var held = CircularBuffer<Held>()
    private var lastRelease: NIODeadline?

    init(latency: Int64, jitter: Int64, active: Bool) {
        self.latency = latency
        self.jitter = jitter
        self.active = active
    }

    /// Number of elements held back right now.
    var heldCount: Int { self.held.count }

    /// When the first held element is due, if any: the caller arms one timer for it.
    var nextDeadline: NIODeadline? { self.held.first?.release }

    enum ReceiveAction {
        /// Pass the element on now.
        case forward(StreamElement)
        /// The element is held; arm the timer for `nextDeadline` if it changed.
        case hold
    }

    /// Offers an element; `jitterOffset` is the caller's draw in `[-jitter, jitter-1]` (0 without jitter).
    mutating func receive(_ element: StreamElement, now: NIODeadline, jitterOffset: Int64) -> ReceiveAction {
        let release = self.releaseTime(of: element, offset: jitterOffset, now: now)
        if self.held.isEmpty && release <= now {
            return .forward(self.stamped(element, offset: jitterOffset))
        }
        self.lastRelease = release
        self.held.append(Held(element: element, offset: jitterOffset, release: release))
        return .hold
    }

    /// Takes every element that is due at `now`, in order.
    mutating func releaseDue(now: NIODeadline) -> [StreamElement] {
        var released: [StreamElement] = []
        while let first = self.held.first, first.release <= now {
            self.held.removeFirst()
            released.append(self.stamped(first.element, offset: first.offset))
        }
        return released
    }

    /// New settings apply to what is already held, re-timed from each chunk's own arrival.
    mutating func reconfigure(latency: Int64, jitter: Int64, active: Bool, now: NIODeadline) {
        self.latency = latency
        self.jitter = jitter
        self.active = active
        self.lastRelease = nil
        var retimed = CircularBuffer<Held>(initialCapacity: self.held.count)
        for var entry in self.held {
            entry.offset = jitter > 0 ? min(max(entry.offset, -jitter), jitter - 1) : 0
            entry.release = self.releaseTime(of: entry.element, offset: entry.offset, now: now)
            self.lastRelease = entry.release
            retimed.append(entry)
        }
        self.held = retimed
    }

    /// Everything held, in order, for a stage that is being removed.
    mutating func drain() -> [StreamElement] {
        let elements = self.held.map { self.stamped($0.element, offset: $0.offset) }
        self.held.removeAll()
        self.lastRelease = nil
        return elements
    }

    private func delay(offset: Int64) -> Int64 {
        guard self.active else { return 0 }
        // Attributes are unbounded Int64s from clients; saturate instead of trapping.
        let (sum, overflow) = self.latency.addingReportingOverflow(offset)
        if overflow { return offset > 0 ? .max : 0 }
        return max(0, sum)
    }

    private func releaseTime(of element: StreamElement, offset: Int64, now: NIODeadline) -> NIODeadline {
        let own: NIODeadline
        switch element {
        case .chunk(let chunk):
            own = chunk.timestamp + .milliseconds(self.delay(offset: offset))
        case .end, .close:
            // The end is not delayed by itself, only queued behind the data ahead of it.
            own = now
        }
        guard let lastRelease = self.lastRelease, !self.held.isEmpty else { return own }
        return max(own, lastRelease)
    }

    private func stamped(_ element: StreamElement, offset: Int64) -> StreamElement {
        guard case .chunk(var chunk) = element else { return element }
        chunk.timestamp = chunk.timestamp + .milliseconds(self.delay(offset: offset))
        return .chunk(chunk)
    }
}
