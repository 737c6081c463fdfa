/// Durations as scenario files and toxictl write them: Go-style `150ms`, `15s`, `1m30s`, `2h`, `1.5s`; in JSON a
/// bare number is milliseconds.
public enum DurationText {
    /// The units a duration may use, longest spelling first so `ms` is not read as `m` + garbage.
    private static let units: [(name: String, nanoseconds: Int64)] = [
        ("ms", 1_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
    ]

    /// Parses a duration; nil for anything else (negative values, unknown units, empty text).
    ///
    /// A sequence of decimal numbers, each with a unit (`ms`, `s`, `m`, `h`), as Go's `time.ParseDuration` takes
    /// them without a sign; `0` alone is zero. Precision is the nanosecond (further digits are dropped).
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        var rest = Substring(text)
        var total: Int64 = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { return nil }
            guard let unit = Self.units.first(where: { rest.hasPrefix($0.name) }) else { return nil }
            rest = rest.dropFirst(unit.name.count)
            guard let part = Self.nanoseconds(whole: whole, fraction: fraction, unit: unit.nanoseconds) else {
                return nil
            }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return nil }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// `whole.fraction` × `unit` in nanoseconds, nil on overflow.
    private static func nanoseconds(whole: Substring, fraction: Substring, unit: Int64) -> Int64? {
        var value: Int64 = 0
        for digit in whole {
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflowPlus) = times.addingReportingOverflow(Int64(digit.wholeNumberValue!))
            guard !overflowTimes, !overflowPlus else { return nil }
            value = plus
        }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        // The fraction: digit k (from 1) is worth unit / 10^k; beyond the nanosecond it is dropped.
        var place = unit
        var fractional: Int64 = 0
        for digit in fraction {
            place /= 10
            if place == 0 { break }
            fractional += Int64(digit.wholeNumberValue!) * place
        }
        let (sum, overflowSum) = scaled.addingReportingOverflow(fractional)
        return overflowSum ? nil : sum
    }

    /// The shortest exact form: `150ms`, `15s`, `1m30s`, `2h`, `1.5s`.
    ///
    /// Under a second it is in milliseconds (`1.5ms`); from a second on, hours, minutes and seconds with zero
    /// components left out (`1h30s`). Precision is the nanosecond; negative durations keep a leading `-`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if total == 0 { return "0s" }
        if total < 0 { return "-" + Self.format(.nanoseconds(-total)) }
        if total < 1_000_000_000 {
            return Self.decimal(total, unit: 1_000_000, fractionDigits: 6) + "ms"
        }
        let hours = total / 3_600_000_000_000
        let minutes = total % 3_600_000_000_000 / 60_000_000_000
        let rest = total % 60_000_000_000
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if rest > 0 { text += Self.decimal(rest, unit: 1_000_000_000, fractionDigits: 9) + "s" }
        return text
    }

    /// `value / unit` as a decimal without trailing zeros.
    private static func decimal(_ value: Int64, unit: Int64, fractionDigits: Int) -> String {
        let whole = value / unit
        let fraction = value % unit
        guard fraction > 0 else { return "\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: fractionDigits - digits.count) + digits
        while digits.hasSuffix("0") {
            digits.removeLast()
        }
        return "\(whole).\(digits)"
    }

    /// Milliseconds, fractional.
    public static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
