import ArgumentParser
import Impairments
import Scenarios

struct LatencyEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Delay traffic by MS milliseconds (plus or minus --jitter) in the chosen direction.",
        discussion: """
            up is client → upstream (edge → cloud), down is upstream → client. An existing latency toxic of \
            ours is updated in place; the other direction is left as it is.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: ToxicNameOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions
    @OptionGroup var lasting: ForDurationOptions

    @Argument(help: ArgumentHelp("Latency in milliseconds.", valueName: "ms"))
    var milliseconds: Int64

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Random variation in milliseconds, added or subtracted per chunk.", valueName: "ms")
    )
    var jitter: Int64 = 0

    @Option(help: "Which traffic to delay: up, down or both.")
    var direction: Direction = .up

    func validate() throws {
        try validateMilliseconds(self.milliseconds, option: "the latency")
        try validateMilliseconds(self.jitter, option: "--jitter")
        if self.jitter > self.milliseconds && self.lasting.text != nil {
            throw ValidationError(
                "--jitter must not exceed the latency with --for (got \(self.jitter) > \(self.milliseconds))."
            )
        }
        try self.lasting.rejectCustomNames(self.names)
    }

    func run() async throws {
        let impairments = try self.names.impairments(proxy: self.target.proxy)
        let jitterText = self.jitter > 0 ? " ± \(self.jitter) ms" : ""
        if let duration = self.lasting.duration {
            try await TimedImpairment(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
                summary: "latency: \(self.milliseconds) ms\(jitterText), direction \(self.direction)",
                impairment: Impairment(
                    latency: .init(
                        milliseconds: self.milliseconds,
                        jitterMilliseconds: self.jitter,
                        direction: ScenarioDirection(self.direction)
                    )
                ),
                for: duration
            )
            return
        }
        try await ChangeRunner(target: self.target, output: self.output, dryRun: self.dryRun.dryRun).run(
            summary: "latency: \(self.milliseconds) ms\(jitterText), direction \(self.direction)"
        ) { current in
            impairments.enableLatency(
                milliseconds: self.milliseconds,
                jitter: self.jitter,
                direction: self.direction,
                current: current
            )
        }
    }
}
