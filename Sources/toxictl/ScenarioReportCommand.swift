import ArgumentParser
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

struct ScenarioReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show a scenario's recovery report, and check it with --assert.",
        discussion: """
            Per phase: connections accepted, closed and cut, bytes, upstream dial failures; per impaired → \
            healthy transition: the time to the first connection and to the first byte back (recovery). A \
            running scenario's report is the figures so far. Assertions (grammar in the README, "Scenarios"), e.g. \
            --assert 'recovery < 30s' --assert 'max(first_connection) <= 2s and unrecovered == 0', are checked \
            before anything is fetched for syntax (exit 64), then against the report: each failing one prints \
            a FAIL line on standard error, and the exit status is 1. -o junit writes JUnit XML to standard output \
            (one test case per assertion, and one per transition).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
        case junit
    }

    @OptionGroup var target: TargetOptions
    @OptionGroup var scenario: ScenarioIDArgument

    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: "Output format: text for people, json for scripts, junit for CI test reports."
    )
    var format: Format = .text

    @Option(
        name: .customLong("assert"),
        help: ArgumentHelp("A check of the report; repeat for more.", valueName: "expr")
    )
    var assertions: [String] = []

    func validate() throws {
        try self.target.rejectProxyOption()
        for text in self.assertions {
            do {
                _ = try ReportAssertion.parse(text)
            } catch {
                throw ValidationError("--assert '\(text)': \(error)")
            }
        }
    }

    func run() async throws {
        let assertions = try self.assertions.map { text throws(ScenarioError) in try ReportAssertion.parse(text) }
        if self.format == .text { Console.line(try await self.target.targetLine(subject: nil)) }
        let session = ScenarioSession(target: self.target, json: self.format != .text)
        let report = try await session.call { client throws(ToxiproxyClientError) in
            try await client.scenarioReport(id: self.scenario.id)
        }
        let results = assertions.map { $0.evaluate(report) }
        switch self.format {
        case .text:
            Console.line(report.renderText(results: results))
        case .json:
            var members: [(String, JSONValue)] = [("report", report.jsonValue)]
            if !results.isEmpty { members.append(("assertions", ScenarioPrinter.json(results))) }
            Console.line(ScenarioPrinter.json(target: self.target.jsonTarget, members))
        case .junit:
            Console.line(report.renderJUnit(results: results))
        }
        let failed = results.filter { !$0.passed }
        for result in failed {
            Console.error("FAIL \(result.assertion.text): \(result.detail)")
        }
        if !failed.isEmpty {
            Console.error("\(failed.count) of \(results.count) assertion(s) failed")
            throw ExitCode(1)
        }
    }
}
