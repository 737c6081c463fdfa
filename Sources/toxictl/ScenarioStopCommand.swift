import ArgumentParser
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

struct ScenarioStopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop a scenario now; the server restores the proxies before answering.",
        discussion: """
            Stopping one that has already ended changes nothing and says how it ended. Exit status: 0 when it \
            is ended and restored, 1 when the restore failed or the call did.
            """
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
        let (hadEnded, status) = try await session.call { client throws(ToxiproxyClientError) in
            // Asked first, so that stopping one that had ended reads as that, not as a stop.
            let before = try await client.scenario(id: self.scenario.id)
            let after = before.state == .ended ? before : try await client.stopScenario(id: self.scenario.id)
            return (before.state == .ended, after)
        }
        switch self.output.format {
        case .text:
            let label = ScenarioPrinter.label(id: status.id, name: status.name)
            if !hadEnded {
                Console.line("stopped scenario \(label) after \(ScenarioPrinter.seconds(status.elapsedMs))")
            } else {
                Console.line(
                    "scenario \(label) had already ended: \(ScenarioPrinter.reasonText(status.endReason)); nothing to stop"
                )
            }
            for line in ScenarioPrinter.restoreLines(kept: status.kept, restoreErrors: status.restoreErrors) {
                Console.line(line)
            }
        case .json:
            Console.line(ScenarioPrinter.json(target: self.target.jsonTarget, [("scenario", status.jsonValue)]))
        }
        if !status.restoreErrors.isEmpty { throw ExitCode(1) }
    }
}
