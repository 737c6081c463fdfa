import ArgumentParser
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

struct ScenarioStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show one scenario: its state, current phase, lease, the phases so far, and its restore.",
        discussion: "Exit status: 0 while it runs or when it ended as planned, 1 when it ended otherwise."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var scenario: ScenarioIDArgument
    @OptionGroup var output: OutputOptions

    func validate() throws {
        try self.target.rejectProxyOption()
    }

    func run() async throws {
        if self.output.format == .text { Console.line(try await self.target.targetLine(subject: nil)) }
        let session = ScenarioSession(target: self.target, json: self.output.format == .json)
        let status = try await session.call { client throws(ToxiproxyClientError) in
            try await client.scenario(id: self.scenario.id)
        }
        switch self.output.format {
        case .text: Console.line(ScenarioPrinter.detail(status))
        case .json: Console.line(ScenarioPrinter.json(target: self.target.jsonTarget, [("scenario", status.jsonValue)]))
        }
        if status.state == .ended {
            let code = ScenarioPrinter.exitStatus(status.endReason, restoreErrors: status.restoreErrors)
            if code != 0 { throw ExitCode(code) }
        }
    }
}
