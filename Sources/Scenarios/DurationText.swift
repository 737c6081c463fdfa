/// Durations as scenario files and toxictl write them: Go-style `150ms`, `15s`, `1m30s`, `2h`, `1.5s`; in JSON a
/// bare number is milliseconds.
public enum DurationText {
    /// Parses a duration; nil for anything else (negative values, unknown units, empty text).
    public static func parse(_ text: String) -> Duration? {
        fatalError("unimplemented")
    }

    /// The shortest exact form: `150ms`, `15s`, `1m30s`, `2h`, `1.5s`.
    public static func format(_ duration: Duration) -> String {
        fatalError("unimplemented")
    }

    /// Milliseconds, fractional.
    public static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
