/// A check over a recovery report, as `toxictl scenario report --assert 'recovery < 30s'` takes it (grammar in
/// the README, "Scenarios").
public struct ReportAssertion: Sendable, Equatable, CustomStringConvertible {
    public struct Result: Sendable, Equatable {
        public var assertion: ReportAssertion
        public var passed: Bool
        /// The measured value and the verdict, e.g. `max(recovery) = 412 ms, not < 300 ms (transition 3 → 4)`.
        public var detail: String
    }

    /// The expression as written.
    public var text: String

    /// The parsed comparisons, all of which must hold (`and`).
    var comparisons: [Comparison]

    init(text: String, comparisons: [Comparison]) {
        self.text = text
        self.comparisons = comparisons
    }

    public static func parse(_ text: String) throws(ScenarioError) -> ReportAssertion {
        var parser = Parser(text)
        return ReportAssertion(text: text, comparisons: try parser.parseAssertion())
    }

    /// Every comparison's verdict with what was measured; the assertion passes when all of them do.
    public func evaluate(_ report: RecoveryReport) -> Result {
        let verdicts = self.comparisons.map { $0.evaluate(report) }
        return Result(
            assertion: self,
            passed: verdicts.allSatisfy(\.passed),
            detail: verdicts.map(\.detail).joined(separator: "; ")
        )
    }

    public var description: String { self.text }
}

// MARK: - The parsed form

extension ReportAssertion {
    /// A figure the report yields: per transition (a duration), per phase (a count), per impaired phase (a
    /// rate), or one number for the whole report.
    enum Name: String, CaseIterable, Sendable {
        case recovery
        case firstConnection = "first_connection"
        case accepted
        case closed
        case bytesUp = "bytes_up"
        case bytesDown = "bytes_down"
        case cut
        case dialFailures = "dial_failures"
        case attemptsPerSecond = "attempts_per_second"
        case unrecovered
        case transitions

        /// The aggregate a bare name means; nil for the single numbers, which take none.
        var defaultAggregate: Aggregate? {
            switch self {
            case .recovery, .firstConnection, .attemptsPerSecond: .max
            case .accepted, .closed, .bytesUp, .bytesDown, .cut, .dialFailures: .sum
            case .unrecovered, .transitions: nil
            }
        }

        var isDuration: Bool { self == .recovery || self == .firstConnection }
    }

    enum Aggregate: String, CaseIterable, Sendable {
        case max, min, mean, sum, count
    }

    enum Operator: String, CaseIterable, Sendable {
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case equal = "=="
        case notEqual = "!="

        func holds(_ lhs: Double, _ rhs: Double) -> Bool {
            switch self {
            case .less: lhs < rhs
            case .lessOrEqual: lhs <= rhs
            case .greater: lhs > rhs
            case .greaterOrEqual: lhs >= rhs
            case .equal: lhs == rhs
            case .notEqual: lhs != rhs
            }
        }
    }

    struct Figure: Equatable, Sendable {
        var name: Name
        /// Nil only for the single-number names.
        var aggregate: Aggregate?

        /// Milliseconds: the duration names under any aggregate but `count`.
        var isDuration: Bool { self.name.isDuration && self.aggregate != .count }

        var label: String { self.aggregate.map { "\($0.rawValue)(\(self.name.rawValue))" } ?? self.name.rawValue }
    }

    struct Comparison: Equatable, Sendable {
        var figure: Figure
        var op: Operator
        /// In milliseconds when the figure is a duration.
        var bound: Double
    }
}

// MARK: - Evaluation

extension ReportAssertion.Comparison {
    /// One value of a figure and where it comes from (`transition 3 → 4`, `phase 2 (down #1)`).
    private struct Sample {
        var value: Double
        var origin: String
    }

    func evaluate(_ report: RecoveryReport) -> (passed: Bool, detail: String) {
        let figure = self.figure
        let measured: Double
        var origin: String?
        if let aggregate = figure.aggregate {
            let samples = Self.samples(of: figure.name, in: report)
            switch aggregate {
            case .count:
                measured = Double(samples.count)
            case .sum:
                measured = samples.reduce(0) { $0 + $1.value }
            case .mean, .max, .min:
                guard !samples.isEmpty else {
                    let source = figure.name.isDuration ? "transitions" : "phases"
                    let qualifier = figure.name == .attemptsPerSecond ? "impaired phases with a visible rate" : source
                    return (false, "\(figure.label) has no value: the report has no \(qualifier)")
                }
                if aggregate == .mean {
                    measured = samples.reduce(0) { $0 + $1.value } / Double(samples.count)
                } else {
                    // The first sample that reaches the extreme names where it was measured.
                    var best = samples[0]
                    for sample in samples.dropFirst()
                    where aggregate == .max ? sample.value > best.value : sample.value < best.value {
                        best = sample
                    }
                    measured = best.value
                    origin = best.origin
                    if best.value == .infinity {
                        origin = best.origin + (figure.name == .recovery ? " did not recover" : " had no connection")
                    }
                }
            }
        } else {
            switch figure.name {
            case .unrecovered: measured = Double(report.transitions.filter { $0.recoveryMs == nil }.count)
            default: measured = Double(report.transitions.count)
            }
        }
        let passed = self.op.holds(measured, self.bound)
        let value = self.format(measured)
        let bound = self.format(self.bound)
        var detail =
            passed
            ? "\(figure.label) = \(value) \(self.op.rawValue) \(bound)"
            : "\(figure.label) = \(value), not \(self.op.rawValue) \(bound)"
        if let origin { detail += " (\(origin))" }
        return (passed, detail)
    }

    private func format(_ value: Double) -> String {
        if value == .infinity { return "∞" }
        if self.figure.isDuration { return "\(value.wireDecimalText) ms" }
        if self.figure.name == .attemptsPerSecond && self.figure.aggregate != .count {
            return "\(value.wireDecimalText)/s"
        }
        return value.wireDecimalText
    }

    private static func samples(of name: ReportAssertion.Name, in report: RecoveryReport) -> [Sample] {
        func transition(_ value: Double?, _ transition: RecoveryReport.Transition) -> Sample {
            // Never recovered counts as infinitely long, so `recovery < 30s` fails on it.
            Sample(
                value: value ?? .infinity,
                origin: "transition \(transition.fromPhase + 1) → \(transition.toPhase + 1)"
            )
        }
        func phase(_ value: Int64, _ phase: RecoveryReport.Phase) -> Sample {
            Sample(value: Double(value), origin: "phase \(phase.index + 1) (\(phase.name))")
        }
        switch name {
        case .recovery: return report.transitions.map { transition($0.recoveryMs, $0) }
        case .firstConnection: return report.transitions.map { transition($0.firstConnectionMs, $0) }
        case .accepted: return report.phases.map { phase($0.counts.accepted, $0) }
        case .closed: return report.phases.map { phase($0.counts.closed, $0) }
        case .bytesUp: return report.phases.map { phase($0.counts.bytesUp, $0) }
        case .bytesDown: return report.phases.map { phase($0.counts.bytesDown, $0) }
        case .cut: return report.phases.map { phase($0.counts.cut, $0) }
        case .dialFailures: return report.phases.map { phase($0.counts.dialFailures, $0) }
        case .attemptsPerSecond:
            return report.phases.compactMap { phase in
                guard phase.impaired, let rate = phase.attemptsPerSecond else { return nil }
                return Sample(value: rate, origin: "phase \(phase.index + 1) (\(phase.name))")
            }
        case .unrecovered, .transitions: return []
        }
    }
}
