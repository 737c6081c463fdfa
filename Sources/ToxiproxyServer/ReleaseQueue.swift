import NIOCore

/// Elements held until their release time, in order: none is released before the one ahead of it, so a
/// stage built on it can never reorder bytes, whatever times it computes.
struct ReleaseQueue {
    private var held = CircularBuffer<(element: StreamElement, release: NIODeadline)>()

    var isEmpty: Bool { self.held.isEmpty }
    var count: Int { self.held.count }
    var nextDeadline: NIODeadline? { self.held.first?.release }
    var lastRelease: NIODeadline? { self.held.last?.release }
    var elements: [StreamElement] { self.held.map(\.element) }

    /// Holds `element` until `release`, or until the element ahead of it leaves if that is later.
    mutating func append(_ element: StreamElement, releaseAt release: NIODeadline) {
        self.held.append((element, max(release, self.lastRelease ?? release)))
    }

    mutating func releaseDue(now: NIODeadline) -> [StreamElement] {
        var released: [StreamElement] = []
        while let first = self.held.first, first.release <= now {
            released.append(self.held.removeFirst().element)
        }
        return released
    }

    mutating func drain() -> [StreamElement] {
        defer { self.held.removeAll() }
        return self.held.map(\.element)
    }
}
