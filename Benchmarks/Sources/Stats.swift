import NIOCore

/// Monotonic nanoseconds; the same clock NIO schedules with, so it is not moved by NTP.
@inline(__always)
func nowNanos() -> UInt64 {
    NIODeadline.now().uptimeNanoseconds
}

enum Stats {
    /// Nearest-rank percentile (`p` in 0...100) of unsorted samples.
    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        precondition(!samples.isEmpty, "percentile of no samples")
        let sorted = samples.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    static func median(_ samples: [Double]) -> Double {
        precondition(!samples.isEmpty, "median of no samples")
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func mean(_ samples: [Double]) -> Double {
        precondition(!samples.isEmpty, "mean of no samples")
        return samples.reduce(0, +) / Double(samples.count)
    }
}

/// A wait that hit its deadline; kept apart from other failures because a server too slow to answer is a
/// measurement (a lower bound), not a harness error.
struct TimedOut: Error, CustomStringConvertible {
    var timeout: TimeAmount
    var what: String

    var description: String { "timed out after \(self.timeout.nanoseconds / 1_000_000) ms: \(self.what)" }
}

/// A failure of the harness or of a server under test, with what was being done.
struct BenchmarkError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A workload run that was still going when its time budget ran out: the server could not complete it.
/// `step` is the wait that was cut short, `elapsed` how long the run had taken by then.
struct DidNotFinish: Error, CustomStringConvertible {
    var budgetSeconds: Int64
    var elapsedSeconds: Double
    var step: String

    var description: String {
        "did not finish within its \(self.budgetSeconds) s budget (after \(formatSeconds(self.elapsedSeconds))), "
            + "at: \(self.step)"
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds < 10 ? "\(Double(Int(seconds * 10)) / 10) s" : "\(Int(seconds.rounded())) s"
}

/// The time budget of the workload run in progress. Every `get(within:)` inside it waits at most until the
/// budget's deadline, so a server that stalls a workload ends that run (with `DidNotFinish`) instead of
/// the benchmark; clean-up after a run goes through `outsideBudget`, so it still gets its own time.
struct WorkloadBudget: Sendable {
    var seconds: Int64
    var start: UInt64
    var deadline: UInt64

    @TaskLocal static var current: WorkloadBudget?

    /// Runs `body` with a budget of `seconds` from now.
    static func run<T>(seconds: Int64, _ body: () async throws -> T) async throws -> T {
        let start = nowNanos()
        let budget = WorkloadBudget(seconds: seconds, start: start, deadline: start + UInt64(seconds) * 1_000_000_000)
        return try await Self.$current.withValue(budget) { try await body() }
    }
}

/// Runs clean-up (closing connections, removing a toxic) with no workload budget over it.
func outsideBudget<T>(_ body: () async throws -> T) async rethrows -> T {
    try await WorkloadBudget.$current.withValue(nil) { try await body() }
}

/// An absolute deadline shared by a sequence of waits (a batch of connections), so their timeouts do
/// not add up.
struct Deadline: Sendable {
    let total: TimeAmount
    let end: UInt64

    init(_ total: TimeAmount) {
        self.total = total
        self.end = nowNanos() + UInt64(max(total.nanoseconds, 0))
    }

    /// What is left, at least 1 ms (so a wait on an already completed future still succeeds).
    var remaining: TimeAmount {
        .nanoseconds(max(Int64(self.end) - Int64(nowNanos()), 1_000_000))
    }
}

extension EventLoopFuture where Value: Sendable {
    /// Waits for the future, failing with `what` if it has not completed by `timeout`; every wait in the
    /// harness is bounded so a stuck server cannot hang the benchmark.
    func get(within timeout: TimeAmount, _ what: @autoclosure () -> String) async throws -> Value {
        let promise = self.eventLoop.makePromise(of: Value.self)
        let message = what()
        var wait = timeout
        var failure: any Error = TimedOut(timeout: timeout, what: message)
        if let budget = WorkloadBudget.current {
            let left = Int64(budget.deadline) - Int64(nowNanos())
            if left < timeout.nanoseconds {
                wait = .nanoseconds(max(left, 1_000_000))
                failure = DidNotFinish(
                    budgetSeconds: budget.seconds,
                    elapsedSeconds: Double(budget.deadline - budget.start) / 1e9,
                    step: message
                )
            }
        }
        let error = failure
        let timer = self.eventLoop.scheduleTask(in: wait) {
            promise.fail(error)
        }
        self.whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        return try await promise.futureResult.get()
    }
}
