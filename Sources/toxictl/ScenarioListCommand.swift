import ArgumentParser
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

struct ScenarioListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the running scenarios and the last 50 ended ones, newest first."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        try self.target.rejectProxyOption()
    }

    func run() async throws {
        if self.output.format == .text { Console.line(try await self.target.targetLine(subject: nil)) }
        let session = ScenarioSession(target: self.target, json: self.output.format == .json)
        let scenarios = try await session.call { client throws(ToxiproxyClientError) in try await client.scenarios() }
        switch self.output.format {
        case .text: Console.line(ScenarioPrinter.table(scenarios))
        case .json:
            Console.line(
                ScenarioPrinter.json(
                    target: self.target.jsonTarget,
                    [("scenarios", .array(scenarios.map { $0.jsonValue }))]
                )
            )
        }
    }
}
