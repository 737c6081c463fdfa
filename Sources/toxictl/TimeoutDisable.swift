import ArgumentParser
import Impairments

struct TimeoutDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Remove our timeout toxics. An outage, if any, stays."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: ToxicNameOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    func run() async throws {
        let impairments = try self.names.impairments(proxy: self.target.proxy)
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "timeout: off"
        ) { current in
            impairments.disableTimeout(current: current)
        }
    }
}
