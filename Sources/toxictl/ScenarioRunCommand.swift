import ArgumentParser
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

struct ScenarioRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario file on the server; the server restores the proxies when it ends.",
        discussion: """
            The file (YAML or JSON, format in the README, "Scenarios"; - reads standard input) is validated here first: an \
            invalid one exits 64 naming the field, and nothing is sent. The server runs the timeline on its own \
            clock. Attached (the default), toxictl renews the scenario's lease every grace/3 and waits for its \
            end; if toxictl dies or loses the server for longer than the grace, the lease ends the scenario and \
            the server restores the proxies. SIGINT or SIGTERM stops it (restored by the server). With -n, a lost \
            port-forward is re-opened and following resumes where it stopped; the scenario keeps running meanwhile.
            --detach starts it with no lease (only its bound, `for`, ends it), prints its id and exits.
            Exit status: 0 when it ran to the end of its timeline or its bound and was restored, 1 when it \
            ended otherwise (failed, lease_expired, stopped by someone else, server shutdown) or the restore \
            failed, 128+N when stopped by signal N, 64 for an invalid file or arguments.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The scenario file, YAML or JSON; - reads standard input.", valueName: "file"))
    var file: String

    @Flag(help: "Print every event as it happens: each phase with its index, name and lateness.")
    var follow = false

    @Flag(help: "Start it without a lease (its bound ends it), print its id, and exit.")
    var detach = false

    func validate() throws {
        if self.follow && self.detach {
            throw ValidationError(
                "--follow and --detach exclude each other: --detach exits at once (follow it later with "
                    + "`toxictl scenario attach ID`)."
            )
        }
        if self.target.proxyOption != nil {
            throw ValidationError("--proxy does not apply: the scenario file names its proxies (proxies:).")
        }
    }

    func run() async throws {
        var scenario = try ScenarioFile.load(self.file)
        if self.detach { scenario.lease = .none }
        let session = ScenarioSession(target: self.target, json: self.output.format == .json)
        let source = self.file == "-" ? "standard input" : self.file
        if self.output.format == .text {
            Console.line(
                try await self.target.targetLine(
                    subject: (scenario.proxies.count == 1 ? "proxy " : "proxies ")
                        + scenario.proxies.joined(separator: ", ")
                )
            )
        }
        // Signals are trapped before the start: one that comes while it is being started stops it right after.
        let control = await SignalControl.trapping()
        defer { control.stop() }
        let status = try await self.target.withClient { client in
            try await ScenarioSession.requireScenarios(client, for: "a scenario file")
            return try await ScenarioSession.start(scenario, on: client, source: source)
        }
        if self.detach {
            self.printDetached(status)
            return
        }
        if self.output.format == .text {
            Console.line(
                "started scenario \(ScenarioPrinter.label(id: status.id, name: status.name)): "
                    + "\(status.phaseCount.map { "\($0) phase(s)" } ?? "phases repeated until its bound"), "
                    + "bound \(ScenarioPrinter.duration(milliseconds: status.boundMs)), "
                    + "lease \(ScenarioPrinter.leaseText(graceMs: status.leaseGraceMs))"
                    + (status.leaseGraceMs != nil ? " (renewed by toxictl while it runs)" : "")
            )
        }
        let (follow, json, phaseCount) = (self.follow, self.output.format == .json, status.phaseCount)
        let outcome = await session.attach(to: status, after: 0, holdsLease: true, control: control) { event in
            guard follow else { return }
            Console.line(json ? event.jsonValue.text : ScenarioPrinter.eventLine(event, phaseCount: phaseCount))
        }
        try Self.finish(outcome, started: status, session: session, json: json)
    }

    /// Prints how an attached run ended and exits with its status (shared with `scenario attach`).
    static func finish(
        _ outcome: ScenarioSession.Outcome,
        started: ScenarioStatus,
        session: ScenarioSession,
        json: Bool
    ) throws {
        switch outcome {
        case .ended(let final, let report):
            if json {
                var members: [(String, JSONValue)] = [("scenario", final.jsonValue)]
                if let report { members.append(("report", report.jsonValue)) }
                Console.line(ScenarioPrinter.json(target: session.target.jsonTarget, members))
            } else {
                for line in ScenarioPrinter.endLines(final) { Console.line(line) }
                if let report {
                    for line in ScenarioPrinter.reportSummary(report) { Console.line(line) }
                    Console.line(
                        "full report: toxictl scenario report \(final.id)\(session.target.repeatedArguments)"
                    )
                } else {
                    Console.error("warning: the report of scenario \(final.id) could not be fetched")
                }
            }
            let status = ScenarioPrinter.exitStatus(final.endReason, restoreErrors: final.restoreErrors)
            if status != 0 { throw ExitCode(status) }
        case .signalled(let signal, let stopped, let stopError):
            if let stopped {
                if json {
                    Console.line(
                        ScenarioPrinter.json(target: session.target.jsonTarget, [("scenario", stopped.jsonValue)])
                    )
                } else {
                    Console.line(
                        "scenario \(ScenarioPrinter.label(id: stopped.id, name: stopped.name)) stopped by \(signal)"
                            + (stopped.history.last.map {
                                " during phase \($0.index + 1)\(stopped.phaseCount.map { "/\($0)" } ?? "") \"\($0.name)\""
                            } ?? "")
                            + " after \(ScenarioPrinter.seconds(stopped.elapsedMs))"
                            + (stopped.endReason != .stopped
                                ? " (it had already ended: \(stopped.endReason?.rawValue ?? "?"))" : "")
                    )
                    for line in ScenarioPrinter.restoreLines(kept: stopped.kept, restoreErrors: stopped.restoreErrors) {
                        Console.line(line)
                    }
                }
                throw ExitCode(stopped.restoreErrors.isEmpty ? signal.exitStatus : 1)
            }
            if let stopError {
                Console.error(
                    "error: \(signal) came, and stopping scenario \(started.id) failed: \(session.describe(stopError))"
                )
                Console.error("  \(ScenarioSession.leaseFallback(started))")
                throw ExitCode(1)
            }
            session.notice(
                "detached from scenario \(started.id) (\(signal)); it keeps running on the server: "
                    + ScenarioSession.leaseFallback(started)
            )
            throw ExitCode(signal.exitStatus)
        case .failed(let error, let stopError):
            Console.error("error: following scenario \(started.id) failed: \(session.describe(error))")
            if let stopError {
                Console.error(
                    "  stopping it failed too: \(session.describe(stopError)); \(ScenarioSession.leaseFallback(started))"
                )
            }
            throw ExitCode(1)
        }
    }

    private func printDetached(_ status: ScenarioStatus) {
        if self.output.format == .json {
            Console.line(ScenarioPrinter.json(target: self.target.jsonTarget, [("scenario", status.jsonValue)]))
            return
        }
        let again = self.target.repeatedArguments
        Console.line(
            "started scenario \(ScenarioPrinter.label(id: status.id, name: status.name)) detached: no lease; "
                + "the server ends it and restores the proxies after its bound, "
                + "\(ScenarioPrinter.duration(milliseconds: status.boundMs)), at the latest"
        )
        Console.line("  follow it:   toxictl scenario attach \(status.id)\(again)")
        Console.line("  stop it:     toxictl scenario stop \(status.id)\(again)")
        Console.line("  its report:  toxictl scenario report \(status.id)\(again)")
    }
}
