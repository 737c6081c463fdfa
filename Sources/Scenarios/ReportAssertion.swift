/// A check over a recovery report, as `toxictl scenario report --assert 'recovery < 30s'` takes it (grammar in
/// docs/scenarios.md).
public struct ReportAssertion: Sendable, Equatable, CustomStringConvertible {
    public struct Result: Sendable, Equatable {
        public var assertion: ReportAssertion
        public var passed: Bool
        /// The measured value and the verdict, e.g. `max(recovery) = 412 ms, not < 300 ms (transition 3 → 4)`.
        public var detail: String
    }

    /// The expression as written.
    public var text: String

    public static func parse(_ text: String) throws(ScenarioError) -> ReportAssertion {
        fatalError("unimplemented")
    }

    public func evaluate(_ report: RecoveryReport) -> Result {
        fatalError("unimplemented")
    }

    public var description: String { self.text }
}

extension RecoveryReport {
    /// The report for people (`-o text`).
    public func renderText(results: [ReportAssertion.Result] = []) -> String {
        fatalError("unimplemented")
    }

    /// JUnit XML (`-o junit`): one test case per assertion, and one per transition ("recovered").
    public func renderJUnit(results: [ReportAssertion.Result] = []) -> String {
        fatalError("unimplemented")
    }
}
