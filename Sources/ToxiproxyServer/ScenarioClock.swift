import NIOCore

/// The one monotonic clock of scenarios: NIO's uptime, which the data path's probes also stamp, so a probe's
/// time and a phase's start compare directly. Engine times are `Duration`s since the clock's origin.
enum ScenarioClock {
    static func now() -> Duration {
        .nanoseconds(Int64(clamping: NIODeadline.now().uptimeNanoseconds))
    }

    static func time(uptimeNanoseconds: UInt64) -> Duration {
        .nanoseconds(Int64(clamping: uptimeNanoseconds))
    }

    static func deadline(_ time: Duration) -> NIODeadline {
        .uptimeNanoseconds(UInt64(max(0, time.nanosecondsClamped)))
    }
}

extension Duration {
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// Milliseconds with their fraction, as the scenario API shows times.
    var fractionalMilliseconds: Double {
        Double(self.components.seconds) * 1000 + Double(self.components.attoseconds) / 1e15
    }
}
