import ArgumentParser
import Impairments

struct LatencyDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Remove our latency toxics, in both directions."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: ToxicNameOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    func run() async throws {
        let impairments = try self.names.impairments(proxy: self.target.proxy)
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "latency: off"
        ) { current in
            impairments.disableLatency(current: current)
        }
    }
}
