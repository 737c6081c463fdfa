import ArgumentParser
import Impairments
import NIOConcurrencyHelpers
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

// On a server with scenarios the flap runs there, as the built-in flap scenario: the server keeps the schedule
// and restores the proxy at the end, and its lease restores it too if this process dies. toxictl holds the
// lease and prints one line per phase, as when it drives the flap itself.

extension Flap {
    /// What the server runs for this flap.
    func scenario() -> Scenario {
        let impairment: Impairment
        switch self.mode {
        case .refuse:
            impairment = Impairment(outage: true)
        case .timeout:
            impairment = Impairment(
                timeout: .init(milliseconds: self.timeoutMs, direction: ScenarioDirection(self.timeoutStream))
            )
        }
        return Scenario.flap(
            proxy: self.target.proxy,
            up: .milliseconds(self.upMs),
            down: .milliseconds(self.downMs),
            impairment: impairment,
            iterations: self.iterations,
            bound: self.iterations == 0 ? self.untilStoppedBound : nil
        )
    }

    /// Until stopped, the lease is what ends the flap; the bound is the backstop: the longest a scenario may
    /// run, or as many cycles as a run may have phases, whichever is shorter.
    var untilStoppedBound: Duration {
        let cycles = Int64(ScenarioPlan.maximumPhaseCount / 2)
        return min(Scenario.maximumBound, .milliseconds((self.upMs + self.downMs) * cycles))
    }

    private enum ServerStart: Sendable {
        case unsupported
        case dryRun
        case started(ScenarioStatus)
    }

    enum ServerRun {
        /// It ran on the server, to a successful end (failures throw `ExitCode`).
        case ran
        /// A dry run: the scenario was printed; the caller prints the phase changes.
        case dryRun
        /// The server has no scenarios: the caller drives the flap itself.
        case unsupported
    }

    /// Runs the flap as a scenario on the server when it has them. Throws `ExitCode` with the flap's exit
    /// status when it did not end well.
    func runOnServer() async throws -> ServerRun {
        let scenario: Scenario
        do {
            scenario = try self.scenario().validated()
        } catch {
            Console.error("error: this flap cannot run as a scenario: \(error)")
            throw ExitCode(64)
        }
        let control = await SignalControl.trapping()
        defer { control.stop() }
        let dryRun = self.dryRun.dryRun
        let start = try await self.target.withClient { client -> ServerStart in
            do throws(ToxiproxyClientError) {
                guard try await client.supportsScenarios() else { return .unsupported }
            } catch {
                throw CLIError(error, proxy: self.target.proxy, target: client.baseURL)
            }
            if dryRun { return .dryRun }
            return .started(try await ScenarioSession.start(scenario, on: client, source: "flap"))
        }
        let status: ScenarioStatus
        switch start {
        case .unsupported:
            return .unsupported
        case .dryRun:
            Console.line("dry run: the server would run the flap as this scenario (POST /scenarios):")
            Console.line("  \(scenario.jsonText)")
            return .dryRun
        case .started(let started):
            status = started
        }
        Console.line(
            "the server runs the flap as scenario \(status.id) (lease renewed by toxictl; if toxictl dies, the "
                + "server restores the proxy within \(ScenarioPrinter.duration(milliseconds: status.leaseGraceMs ?? 0)))"
        )
        let session = ScenarioSession(target: self.target, json: false)
        let phases = NIOLockedValueBox<[ScenarioEvent]>([])
        let (cycles, downText) = (self.iterations > 0 ? "/\(self.iterations)" : "", self.downText)
        let outcome = await session.attach(to: status, after: 0, holdsLease: true, control: control) { event in
            guard event.kind == .phase, let phase = event.phase else {
                if event.kind == .error { Console.error("error: \(event.message ?? "a phase failed")") }
                return
            }
            phases.withLockedValue { $0.append(event) }
            // Both printed in whole milliseconds, the lateness as their difference, so the line adds up.
            let due = phase.startedMs - (event.latenessMs ?? 0)
            let late = (phase.startedMs.rounded() - due.rounded())
            let name = phase.impaired ? "DOWN" : "UP"
            let what = phase.impaired ? downText : phase.index == 0 ? "no change" : "healthy again (by the server)"
            Console.line(
                "\(Console.timestamp())  \(ScenarioPrinter.offset(phase.startedMs))  cycle \(phase.index / 2 + 1)"
                    + "\(cycles)  \(name.padding(4))  (due \(ScenarioPrinter.offset(due)), "
                    + "\(Int64(late.rounded())) ms late)  \(what)"
            )
        }
        let applied = phases.withLockedValue { $0 }
        let maxLate = Int64((applied.compactMap(\.latenessMs).max() ?? 0).rounded())
        switch outcome {
        case .ended(let final, _):
            let end = final.history.last?.endedMs ?? final.elapsedMs
            switch final.endReason {
            case .completed, .boundReached:
                Console.line(
                    "flap completed: \(self.iterations) cycle(s), \(applied.count) phase(s) in "
                        + "\(ScenarioPrinter.seconds(end)); phases started at most \(maxLate) ms after their due time"
                )
            default:
                Console.error(
                    "error: the flap (scenario \(final.id)) ended: \(ScenarioPrinter.reasonText(final.endReason))"
                )
            }
            self.printRestore(final)
            let code = ScenarioPrinter.exitStatus(final.endReason, restoreErrors: final.restoreErrors)
            if code != 0 { throw ExitCode(code) }
        case .signalled(let signal, let stopped, let stopError):
            let last = applied.last?.phase
            let during =
                last.map { "during \($0.impaired ? "DOWN" : "UP") of cycle \($0.index / 2 + 1)" }
                ?? "before the first phase"
            Console.line(
                "flap stopped by \(signal) \(during), after \(applied.count) phase(s) in "
                    + "\(ScenarioPrinter.seconds(stopped?.elapsedMs ?? 0))"
            )
            if let stopped {
                self.printRestore(stopped)
                throw ExitCode(stopped.restoreErrors.isEmpty ? signal.exitStatus : 1)
            }
            Console.error(
                "error: stopping scenario \(status.id) failed: \(session.describe(stopError ?? CLIError("unknown"))); "
                    + ScenarioSession.leaseFallback(status)
            )
            throw ExitCode(1)
        case .failed(let error, let stopError):
            Console.error("error: the flap failed: following scenario \(status.id): \(session.describe(error))")
            if let stopError {
                Console.error(
                    "  stopping it failed too: \(session.describe(stopError)); \(ScenarioSession.leaseFallback(status))"
                )
            }
            throw ExitCode(1)
        }
        return .ran
    }

    private func printRestore(_ final: ScenarioStatus) {
        if final.kept.isEmpty && final.restoreErrors.isEmpty {
            Console.line("restored the state from before the flap (the server did)")
            return
        }
        Console.line("restored the state from before the flap, except:")
        for change in final.kept { Console.line("  kept \(change)") }
        for error in final.restoreErrors { Console.error("  FAILED \(error)") }
    }

    private var downText: String {
        switch self.mode {
        case .refuse: "proxy disabled (by the server)"
        case .timeout: "timeout toxics set (by the server)"
        }
    }
}
