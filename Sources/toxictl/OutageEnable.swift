import ArgumentParser
import Impairments
import Scenarios

struct OutageEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Disable the proxy: its listener closes, live connections close, new ones are refused."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions
    @OptionGroup var lasting: ForDurationOptions

    func run() async throws {
        if let duration = self.lasting.duration {
            try await TimedImpairment(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
                summary: "outage: on (connections refused)",
                impairment: Impairment(outage: true),
                for: duration
            )
            return
        }
        let impairments = ProxyImpairments(proxy: self.target.proxy)
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "outage: on (connections refused)"
        ) { current in
            impairments.setOutage(true, current: current)
        }
    }
}
