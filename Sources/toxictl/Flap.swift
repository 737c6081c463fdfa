import ArgumentParser
import Impairments
import NIOConcurrencyHelpers
import ToxiproxyClient
import ToxiproxyModel
import UnixSignals

struct Flap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Alternate healthy (UP) and impaired (DOWN) periods; restore the previous state at the end.",
        discussion: """
            Each cycle is one UP period, then one DOWN period. DOWN is the proxy disabled (--mode refuse) or \
            timeout toxics added (--mode timeout); UP undoes it. Phases start on a fixed schedule from the \
            start (no drift, however long the API calls take). On completion, SIGINT or SIGTERM the proxy is \
            put back exactly as it was before the flap.
            On swift-toxiproxy's server the flap runs there, as a scenario held by a lease that toxictl renews \
            (every 10 s, grace 30 s): if toxictl dies or loses the server, the server restores the proxy \
            within 30 s. Against a server without scenarios (Shopify's Toxiproxy) toxictl drives the flap \
            itself, over one admin connection, so it lasts only as long as this process. With -n a lost \
            port-forward is re-opened either way, without moving the schedule.
            Exit status: 0 when every cycle ran, 128+N when stopped by signal N (130 for Ctrl+C, 143 for \
            SIGTERM) after a successful restore, 1 when a call or the restore failed.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: TimeoutToxicNameOptions
    @OptionGroup var dryRun: DryRunOptions

    @Option(help: "DOWN means refuse (proxy disabled) or timeout (timeout toxics).")
    var mode: Flapper.Mode = .timeout

    @Option(parsing: .unconditional, help: ArgumentHelp("Length of each healthy period.", valueName: "ms"))
    var upMs: Int64 = 15000

    @Option(parsing: .unconditional, help: ArgumentHelp("Length of each impaired period.", valueName: "ms"))
    var downMs: Int64 = 15000

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Timeout of the toxics in timeout mode; 0 = hang forever.", valueName: "ms")
    )
    var timeoutMs: Int64 = 30000

    @Option(help: "Direction of the timeout toxics: up, down or both.")
    var timeoutStream: Direction = .both

    @Option(parsing: .unconditional, help: "Number of cycles; 0 runs until stopped.")
    var iterations = 0

    func validate() throws {
        guard self.upMs > 0, self.downMs > 0 else {
            throw ValidationError("--up-ms and --down-ms must be more than 0 milliseconds.")
        }
        try validateMilliseconds(self.timeoutMs, option: "--timeout-ms")
        guard self.iterations >= 0 else {
            throw ValidationError("--iterations must be 0 (until stopped) or more (got \(self.iterations)).")
        }
    }

    func run() async throws {
        let configuration = Flapper.Configuration(
            mode: self.mode,
            schedule: FlapSchedule(
                up: .milliseconds(self.upMs),
                down: .milliseconds(self.downMs),
                iterations: self.iterations
            ),
            timeoutMilliseconds: self.timeoutMs,
            timeoutDirection: self.timeoutStream
        )
        let impairments = try self.names.impairments(proxy: self.target.proxy)
        Console.line(try await self.target.targetLine())
        Console.line(self.summaryLine())
        if self.names.timeoutToxics != TimeoutToxicNameOptions.defaultTimeoutToxics {
            Console.line(
                "note: with custom --timeout-toxics toxictl drives the flap itself (the server's scenarios name "
                    + "them timeout_up/timeout_down; it lasts only as long as this process and its port-forward)"
            )
        } else {
            switch try await self.runOnServer() {
            case .ran:
                return
            case .dryRun:
                // The phase changes below are the ones the server's scenario would make.
                break
            case .unsupported:
                Console.line(
                    "note: this server has no scenarios; toxictl drives the flap itself (it lasts only as long as "
                        + "this process and its port-forward)"
                )
            }
        }
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let control = FlapControl()
        let watcher = Task {
            for await signal in signals {
                control.signalled(signal)
                return
            }
        }
        defer { watcher.cancel() }
        // Through a port-forward, a lost forward is re-opened and the flap goes on on the same schedule.
        let reopensLostForwards: Bool
        if case .cluster = try self.target.mode() { reopensLostForwards = true } else { reopensLostForwards = false }
        var run = FlapRun()
        var exitCode: Int32?
        while exitCode == nil {
            exitCode = try await self.target.withClient { client -> Int32? in
                let flapper = Flapper(client: client, impairments: impairments, configuration: configuration)
                if run.snapshot == nil {
                    do throws(ToxiproxyClientError) {
                        run.snapshot = try await client.proxy(named: impairments.proxy)
                    } catch {
                        throw CLIError(error, proxy: impairments.proxy, target: client.baseURL)
                    }
                    if self.dryRun.dryRun {
                        self.printDryRun(flapper, snapshot: run.snapshot!)
                        return 0
                    }
                    run.start = .now
                }
                return await self.flap(flapper, run: &run, control: control, reopensLostForwards: reopensLostForwards)
            }
            if exitCode == nil {
                run.reopenings += 1
                guard run.reopenings <= Self.maximumReopenings else {
                    Console.error("error: the port-forward was lost \(run.reopenings) times; giving up")
                    throw ExitCode(1)
                }
                let schedule = configuration.schedule
                run.nextPhase = schedule.phaseIndex(at: ContinuousClock.now - run.start)
                Console.line(
                    "\(Console.timestamp())  the port-forward was lost; re-opening it (schedule unchanged: "
                        + (run.outcome == nil ? "phase \(run.nextPhase + 1) next)" : "restore next)")
                )
            }
        }
        if exitCode != 0 {
            throw ExitCode(exitCode!)
        }
    }

    /// How often a lost port-forward is re-opened in one run before the flap gives up.
    static let maximumReopenings = 10

    enum Outcome: Sendable {
        case completed
        case signalled(UnixSignal)
        case failed(any Error)
    }

    /// What a flap has done so far, across the port-forwards it ran over.
    struct FlapRun {
        /// The proxy before the flap, which UP phases and the restore return to.
        var snapshot: Proxy?
        var start = ContinuousClock.now
        var nextPhase = 0
        var reports: [Flapper.PhaseReport] = []
        /// How the phases ended, once they have; the restore is still to do.
        var outcome: Outcome?
        var reopenings = 0
    }

    /// Runs the phases from `run.nextPhase` (unless they have ended), then restores. Returns the exit status,
    /// or nil when the port-forward was lost and `reopensLostForwards`: the caller opens another and calls
    /// again.
    private func flap(
        _ flapper: Flapper,
        run: inout FlapRun,
        control: FlapControl,
        reopensLostForwards: Bool
    ) async -> Int32? {
        let schedule = flapper.configuration.schedule
        if run.outcome == nil {
            let reports = NIOLockedValueBox<[Flapper.PhaseReport]>([])
            let cycles = schedule.iterations > 0 ? "/\(schedule.iterations)" : ""
            let (snapshot, start, firstPhase) = (run.snapshot!, run.start, run.nextPhase)
            let phases = Task {
                _ = try await flapper.run(from: snapshot, startingAt: start, firstPhase: firstPhase) { report in
                    reports.withLockedValue { $0.append(report) }
                    let late = report.started - report.scheduled
                    let calls =
                        report.calls.isEmpty ? "no change" : report.calls.map(\.description).joined(separator: "; ")
                    Console.line(
                        "\(Console.timestamp())  +\(Self.seconds(report.started))  cycle \(report.cycle)\(cycles)  "
                            + "\(report.phase.rawValue.padding(4))  (due +\(Self.seconds(report.scheduled)), "
                            + "\(Self.milliseconds(late)) late)  \(calls)"
                    )
                }
            }
            control.running(phases)
            let result = await phases.result
            control.running(nil)
            run.reports += reports.withLockedValue { $0 }
            switch result {
            case .success:
                run.outcome = .completed
            case .failure where control.signal != nil:
                run.outcome = .signalled(control.signal!)
            case .failure(let error as ToxiproxyClientError) where reopensLostForwards && error.code == .unreachable:
                return nil
            case .failure(let error):
                run.outcome = .failed(error)
            }
            self.report(run, schedule: schedule, flapper: flapper)
        }
        // The restore runs here, outside the cancelled task, so a signal cannot cut it short.
        do throws(ToxiproxyClientError) {
            let calls = try await flapper.restore(run.snapshot!)
            Console.line(
                calls.isEmpty
                    ? "restored: the proxy was already as before the flap"
                    : "restored the state from before the flap: " + calls.map(\.description).joined(separator: "; ")
            )
        } catch  where reopensLostForwards && error.code == .unreachable {
            return nil
        } catch {
            Console.error("error: restoring the state from before the flap failed: \(Self.describe(error, flapper))")
            if case .failed = run.outcome {
                Console.error("(the first error, above, is what stopped the flap)")
            }
            return 1
        }
        switch run.outcome! {
        case .completed: return 0
        case .signalled(let signal): return 128 + signal.rawValue
        case .failed: return 1
        }
    }

    private func report(_ run: FlapRun, schedule: FlapSchedule, flapper: Flapper) {
        let elapsed = ContinuousClock.now - run.start
        let maxLate = run.reports.map { $0.started - $0.scheduled }.max() ?? .zero
        switch run.outcome {
        case .completed:
            Console.line(
                "flap completed: \(schedule.iterations) cycle(s), \(run.reports.count) phase(s) in "
                    + "\(Self.seconds(elapsed)); phases started at most \(Self.milliseconds(maxLate)) after their due time"
            )
        case .signalled(let signal):
            let phase =
                run.reports.last.map { "during \($0.phase.rawValue) of cycle \($0.cycle)" } ?? "before the first phase"
            Console.line(
                "flap stopped by \(signal) \(phase), after \(run.reports.count) phase(s) in \(Self.seconds(elapsed))"
            )
        case .failed(let error):
            Console.error("error: the flap failed: \(Self.describe(error, flapper))")
        case nil:
            break
        }
    }

    private func printDryRun(_ flapper: Flapper, snapshot: Proxy) {
        Console.line("dry run: phase changes against the proxy as it is now:")
        for phase in [FlapSchedule.Phase.up, .down] {
            let calls = flapper.plan(phase, current: snapshot, snapshot: snapshot)
            Console.line(
                "  \(phase.rawValue.padding(4)): "
                    + (calls.isEmpty ? "no change" : calls.map(\.description).joined(separator: "; "))
            )
        }
        Console.line("  after the last phase, or on SIGINT/SIGTERM: restore the proxy as it is now")
    }

    private func summaryLine() -> String {
        let down: String
        switch self.mode {
        case .refuse:
            down = "DOWN = proxy disabled (connections refused)"
        case .timeout:
            let behaviour = self.timeoutMs == 0 ? "hang forever" : "close after \(self.timeoutMs) ms of silence"
            down = "DOWN = timeout toxics (\(self.timeoutStream)): data dropped, connections \(behaviour)"
        }
        let count = self.iterations == 0 ? "until stopped" : "\(self.iterations) cycle(s)"
        return "flap: UP \(self.upMs) ms / DOWN \(self.downMs) ms, \(count); \(down)"
    }

    private static func describe(_ error: any Error, _ flapper: Flapper) -> String {
        if let error = error as? ToxiproxyClientError {
            return CLIError(error, proxy: flapper.impairments.proxy, target: flapper.client.baseURL).message
        }
        return "\(error)"
    }

    static func seconds(_ duration: Duration) -> String {
        let milliseconds = Self.totalMilliseconds(duration)
        let text = String(milliseconds)
        let padded = String(repeating: "0", count: max(0, 4 - text.count)) + text
        return "\(padded.dropLast(3)).\(padded.suffix(3))s"
    }

    static func milliseconds(_ duration: Duration) -> String {
        "\(Self.totalMilliseconds(duration)) ms"
    }

    private static func totalMilliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

extension Flapper.Mode: ExpressibleByArgument {}

extension String {
    func padding(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}

/// Where a signal meets the running phases: the watcher records it and cancels them.
final class FlapControl: Sendable {
    private struct State {
        var signal: UnixSignal?
        var phases: Task<Void, any Error>?
    }

    private let state = NIOLockedValueBox(State())

    var signal: UnixSignal? { self.state.withLockedValue { $0.signal } }

    func signalled(_ signal: UnixSignal) {
        let phases = self.state.withLockedValue { state -> Task<Void, any Error>? in
            state.signal = state.signal ?? signal
            return state.phases
        }
        phases?.cancel()
    }

    /// The task running the phases now (nil between port-forwards); cancelled at once if a signal came first.
    func running(_ phases: Task<Void, any Error>?) {
        let cancelNow = self.state.withLockedValue { state -> Bool in
            state.phases = phases
            return state.signal != nil
        }
        if cancelNow { phases?.cancel() }
    }
}
