/// The phase boundaries of a flap, on a fixed grid from its start: phase `k` begins at
/// `⌊k/2⌋ × (up + down)` (+ `up` when `k` is odd), however long the calls of earlier phases took, so
/// periods never drift.
public struct FlapSchedule: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// Healthy: the impairment is off.
        case up = "UP"
        /// Impaired.
        case down = "DOWN"
    }

    public var up: Duration
    public var down: Duration
    /// Cycles of one UP and one DOWN period; 0 runs until stopped.
    public var iterations: Int

    public init(up: Duration, down: Duration, iterations: Int) {
        self.up = up
        self.down = down
        self.iterations = iterations
    }

    /// Phases in the whole run, or nil for a run until stopped.
    public var phaseCount: Int? { self.iterations > 0 ? self.iterations * 2 : nil }

    /// When the last phase ends, measured from the start; nil for a run until stopped.
    public var end: Duration? { self.iterations > 0 ? (self.up + self.down) * self.iterations : nil }

    public func phase(_ index: Int) -> Phase {
        index.isMultiple(of: 2) ? .up : .down
    }

    /// The cycle (1-based) that phase `index` belongs to.
    public func cycle(_ index: Int) -> Int {
        index / 2 + 1
    }

    /// The phase running `elapsed` after the start: the last one that has begun by then (the last phase of
    /// a finite run once it is over).
    public func phaseIndex(at elapsed: Duration) -> Int {
        guard elapsed > .zero else { return 0 }
        let cycle = self.up + self.down
        let cycles = Int(elapsed / cycle)
        var index = cycles * 2 + (elapsed - cycle * cycles >= self.up ? 1 : 0)
        if let count = self.phaseCount { index = min(index, count - 1) }
        return index
    }

    /// When phase `index` begins, measured from the start.
    public func start(ofPhase index: Int) -> Duration {
        (self.up + self.down) * (index / 2) + (index.isMultiple(of: 2) ? .zero : self.up)
    }
}
