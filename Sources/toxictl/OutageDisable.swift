import ArgumentParser
import Impairments

struct OutageDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Enable the proxy again; toxics are left as they are."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    func run() async throws {
        let impairments = ProxyImpairments(proxy: self.target.proxy)
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "outage: off"
        ) { current in
            impairments.setOutage(false, current: current)
        }
    }
}
