import ArgumentParser
import Impairments
import Scenarios

struct TimeoutEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Drop traffic in the chosen direction and close connections after --timeout-ms of silence.",
        discussion: """
            Data in the chosen direction is dropped. With --timeout-ms N > 0 a connection is closed after N ms \
            without traffic in that direction; with 0 it hangs until the timeout is disabled (Toxiproxy's 0 \
            means forever, not "no wait"). Our timeout toxic on the other direction is removed. An outage is \
            not touched.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: ToxicNameOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions
    @OptionGroup var lasting: ForDurationOptions

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Close a silent connection after this many milliseconds; 0 = hang forever.", valueName: "ms")
    )
    var timeoutMs: Int64 = 30000

    @Option(help: "Which traffic to drop: up, down or both.")
    var timeoutStream: Direction = .both

    func validate() throws {
        try validateMilliseconds(self.timeoutMs, option: "--timeout-ms")
        try self.lasting.rejectCustomNames(self.names)
    }

    func run() async throws {
        let impairments = try self.names.impairments(proxy: self.target.proxy)
        if let duration = self.lasting.duration {
            let behaviour =
                self.timeoutMs == 0
                ? "connections hang" : "connections close after \(self.timeoutMs) ms without traffic"
            try await TimedImpairment(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
                summary: "timeout: data dropped (\(self.timeoutStream)); \(behaviour)",
                impairment: Impairment(
                    timeout: .init(milliseconds: self.timeoutMs, direction: ScenarioDirection(self.timeoutStream))
                ),
                for: duration
            )
            return
        }
        let behaviour =
            self.timeoutMs == 0
            ? "connections hang forever (until `toxictl timeout disable`)"
            : "connections close after \(self.timeoutMs) ms without traffic"
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "timeout: data dropped (\(self.timeoutStream)); \(behaviour)"
        ) { current in
            impairments.enableTimeout(milliseconds: self.timeoutMs, direction: self.timeoutStream, current: current)
        }
    }
}
