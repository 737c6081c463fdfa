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

extension EventLoopFuture where Value: Sendable {
    /// Waits for the future, failing with `what` if it has not completed by `timeout`; every wait in the
    /// harness is bounded so a stuck server cannot hang the benchmark.
    func get(within timeout: TimeAmount, _ what: @autoclosure () -> String) async throws -> Value {
        let promise = self.eventLoop.makePromise(of: Value.self)
        let message = what()
        let timer = self.eventLoop.scheduleTask(in: timeout) {
            promise.fail(TimedOut(timeout: timeout, what: message))
        }
        self.whenComplete { result in
            timer.cancel()
            promise.completeWith(result)
        }
        return try await promise.futureResult.get()
    }
}
