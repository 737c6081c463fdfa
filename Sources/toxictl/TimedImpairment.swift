import ArgumentParser
import Impairments
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

/// `--for DURATION` on `latency|timeout|outage enable`.
struct ForDurationOptions: ParsableArguments {
    @Option(
        name: .customLong("for"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "Revert by itself after this long (30s, 5m, 1h30m, at most 24h): the server runs it as a one-phase "
                + "scenario and restores the proxy (needs swift-toxiproxy's server).",
            valueName: "duration"
        )
    )
    var text: String?

    /// The duration given, validated.
    var duration: Duration? {
        self.text.flatMap(DurationText.parse)
    }

    func validate() throws {
        guard let text else { return }
        guard let duration = DurationText.parse(text) else {
            throw ValidationError("--for takes a duration such as 30s, 5m or 1h30m (got \"\(text)\").")
        }
        guard duration > .zero, duration <= .seconds(24 * 3600) else {
            throw ValidationError("--for must be more than 0 and at most 24h (got \(text)).")
        }
    }

    /// Scenarios name their toxics fixed_latency_up/down and timeout_up/down, so other names cannot be reverted
    /// by one.
    func rejectCustomNames(_ names: ToxicNameOptions) throws {
        guard self.text != nil else { return }
        if names.latencyToxics != ToxicNameOptions.defaultLatencyToxics {
            throw ValidationError(
                "--latency-toxics cannot be combined with --for: the server's scenarios name the toxics "
                    + "fixed_latency_up and fixed_latency_down."
            )
        }
        if names.timeout.timeoutToxics != TimeoutToxicNameOptions.defaultTimeoutToxics {
            throw ValidationError(
                "--timeout-toxics cannot be combined with --for: the server's scenarios name the toxics "
                    + "timeout_up and timeout_down."
            )
        }
    }
}

/// An impairment that reverts itself: a one-phase scenario with no lease, bounded by its duration, so it ends
/// on the server whatever happens to this process. Against a server without scenarios it refuses rather than
/// leave a permanent impairment that was asked to be temporary.
struct TimedImpairment {
    var target: TargetOptions
    var output: OutputOptions
    var dryRun: Bool

    func run(summary: String, impairment: Impairment, for duration: Duration) async throws {
        let proxy = self.target.proxy
        let scenario: Scenario
        do {
            scenario = try Scenario.single(proxy: proxy, impairment: impairment, for: duration, lease: .none)
                .validated()
        } catch {
            Console.error("error: --for: \(error)")
            throw ExitCode(64)
        }
        let text = DurationText.format(duration)
        if self.output.format == .text {
            Console.line(try await self.target.targetLine())
            Console.line("\(summary), for \(text) (then the server reverts it by itself)")
        }
        let started = try await self.target.withClient { client -> ScenarioStatus? in
            try await ScenarioSession.requireScenarios(client, for: "--for")
            if self.dryRun { return nil }
            return try await ScenarioSession.start(scenario, on: client, source: "--for")
        }
        guard let started else {
            switch self.output.format {
            case .text:
                Console.line("dry run: would start this scenario (POST /scenarios):")
                Console.line("  \(scenario.jsonText)")
            case .json:
                Console.line(
                    ScenarioPrinter.json(
                        target: self.target.jsonTarget,
                        [("dry_run", .bool(true)), ("would_start", scenario.jsonValue)]
                    )
                )
            }
            return
        }
        switch self.output.format {
        case .text:
            let again = self.target.repeatedArguments
            Console.line(
                "started scenario \(started.id) on \(proxy): it reverts by itself after \(text) "
                    + "(no lease: it does not depend on this command)"
            )
            Console.line("  revert it now:  toxictl scenario stop \(started.id)\(again)")
            Console.line("  watch it:       toxictl scenario status \(started.id)\(again)")
        case .json:
            Console.line(
                ScenarioPrinter.json(
                    target: self.target.jsonTarget,
                    [("dry_run", .bool(false)), ("scenario", started.jsonValue)]
                )
            )
        }
    }
}

extension ScenarioDirection {
    init(_ direction: Direction) {
        switch direction {
        case .up: self = .upstream
        case .down: self = .downstream
        case .both: self = .both
        }
    }
}
