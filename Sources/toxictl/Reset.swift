import ArgumentParser
import Impairments

struct Reset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove every impairment of ours: latency and timeout toxics, and any outage.",
        discussion: "Toxics that toxictl did not create (other names) are left alone."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: ToxicNameOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    func run() async throws {
        let impairments = try self.names.impairments(proxy: self.target.proxy)
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "reset: every impairment off"
        ) { current in
            impairments.reset(current: current)
        }
    }
}
