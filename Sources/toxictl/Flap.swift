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
            start (no drift, however long the API calls take), over one admin connection. On completion, \
            SIGINT or SIGTERM the proxy is put back exactly as it was before the flap.
            Exit status: 0 when every cycle ran, 128+N when stopped by signal N (130 for Ctrl+C, 143 for \
            SIGTERM) after a successful restore, 1 when a call or the restore failed.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var names: ToxicNameOptions
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
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let exitCode = try await self.target.withClient { client in
            let flapper = Flapper(client: client, impairments: impairments, configuration: configuration)
            let snapshot: Proxy
            do throws(ToxiproxyClientError) {
                snapshot = try await client.proxy(named: impairments.proxy)
            } catch {
                throw CLIError(error, proxy: impairments.proxy, target: client.baseURL)
            }
            if self.dryRun.dryRun {
                self.printDryRun(flapper, snapshot: snapshot)
                return Int32(0)
            }
            return await self.flap(flapper, snapshot: snapshot, signals: signals)
        }
        if exitCode != 0 {
            throw ExitCode(exitCode)
        }
    }

    private enum Outcome: Sendable {
        case completed
        case signalled(UnixSignal)
        case failed(any Error)
    }

    private func flap(_ flapper: Flapper, snapshot: Proxy, signals: UnixSignalsSequence) async -> Int32 {
        let start = ContinuousClock.now
        let reports = NIOLockedValueBox<[Flapper.PhaseReport]>([])
        let schedule = flapper.configuration.schedule
        let cycles = schedule.iterations > 0 ? "/\(schedule.iterations)" : ""
        let outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                do {
                    _ = try await flapper.run(from: snapshot, startingAt: start) { report in
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
                    return .completed
                } catch is CancellationError {
                    return nil
                } catch {
                    return .failed(error)
                }
            }
            group.addTask {
                for await signal in signals {
                    return .signalled(signal)
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .completed
        }
        let ran = reports.withLockedValue { $0 }
        let elapsed = ContinuousClock.now - start
        let maxLate = ran.map { $0.started - $0.scheduled }.max() ?? .zero
        switch outcome {
        case .completed:
            Console.line(
                "flap completed: \(schedule.iterations) cycle(s), \(ran.count) phase(s) in \(Self.seconds(elapsed)); "
                    + "phases started at most \(Self.milliseconds(maxLate)) after their due time"
            )
        case .signalled(let signal):
            let phase = ran.last.map { "during \($0.phase.rawValue) of cycle \($0.cycle)" } ?? "before the first phase"
            Console.line("flap stopped by \(signal) \(phase), after \(ran.count) phase(s) in \(Self.seconds(elapsed))")
        case .failed(let error):
            Console.error("error: the flap failed: \(Self.describe(error, flapper))")
        }
        // The restore runs here, outside the cancelled task, so a signal cannot cut it short.
        do {
            let calls = try await flapper.restore(snapshot)
            Console.line(
                calls.isEmpty
                    ? "restored: the proxy was already as before the flap"
                    : "restored the state from before the flap: " + calls.map(\.description).joined(separator: "; ")
            )
        } catch {
            Console.error("error: restoring the state from before the flap failed: \(Self.describe(error, flapper))")
            if case .failed = outcome {
                Console.error("(the first error, above, is what stopped the flap)")
            }
            return 1
        }
        switch outcome {
        case .completed: return 0
        case .signalled(let signal): return 128 + signal.rawValue
        case .failed: return 1
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
    fileprivate func padding(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
