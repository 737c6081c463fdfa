/// Durations as scenario files and toxictl write them: Go-style `150ms`, `15s`, `1m30s`, `2h`, `1.5s`; in JSON a
/// bare number is milliseconds.
public enum DurationText {
    /// The units a duration may be written in, and how an error lists them.
    public struct Units: Sendable {
        let entries: [(name: String, nanoseconds: Int64)]
        let list: String

        /// Scenario files and toxictl's options: `ms`, `s`, `m`, `h` (nothing finer than the scheduler holds).
        public static let coarse = Units(
            entries: [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)],
            list: "ms, s, m, h"
        )
        /// Report assertions, which compare measured figures: Go's units down to the nanosecond.
        public static let all = Units(
            entries: [("ns", 1), ("us", 1_000), ("µs", 1_000)] + Units.coarse.entries,
            list: "ns, us, ms, s, m, h"
        )
    }

    /// Why a text is not a duration.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a duration; nil for anything else (negative values, unknown units, empty text).
    ///
    /// A sequence of decimal numbers, each with a unit (`ms`, `s`, `m`, `h`), as Go's `time.ParseDuration` takes
    /// them without a sign; `0` alone is zero. Precision is the nanosecond (further digits are dropped).
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        guard !text.isEmpty else { return nil }
        return try? Self.parse(text, units: .coarse).get()
    }

    /// Parses a sequence of unsigned decimal numbers, each followed by one of `units`, or says what is wrong.
    public static func parse(_ text: String, units: Units) -> Result<Duration, ParseError> {
        func isNumeral(_ character: Character) -> Bool { character.isASCII && (character.isNumber || character == ".") }
        var rest = Substring(text)
        var total: Int64 = 0
        while !rest.isEmpty {
            let numeral = rest.prefix(while: isNumeral)
            let parts = numeral.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            let whole = parts.first ?? ""
            let fraction = parts.count > 1 ? parts[1] : ""
            guard !whole.isEmpty || !fraction.isEmpty, !fraction.contains(".") else {
                return .failure(ParseError(description: "expected a number before a unit"))
            }
            rest = rest.dropFirst(numeral.count)
            let unitText = rest.prefix { !isNumeral($0) }
            guard !unitText.isEmpty else {
                return .failure(ParseError(description: "missing unit after \(numeral) (\(units.list))"))
            }
            guard let unit = units.entries.first(where: { $0.name == unitText }) else {
                return .failure(ParseError(description: "unknown unit \"\(unitText)\" (\(units.list))"))
            }
            rest = rest.dropFirst(unitText.count)
            guard let part = Self.nanoseconds(whole: whole, fraction: fraction, unit: unit.nanoseconds) else {
                return .failure(ParseError(description: "too long (at most about 292 years)"))
            }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return .failure(ParseError(description: "too long (at most about 292 years)")) }
            total = sum
        }
        return .success(.nanoseconds(total))
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
