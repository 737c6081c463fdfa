import NIOConcurrencyHelpers
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Reliability {
    /// Connect/close cycles through one proxy: every connection the server accepted, and the upstream one it
    /// dialled for it, is gone afterwards, and memory does not grow with the number of cycles.
    @Suite
    struct Churn {
        /// Worker threads opening and closing connections at once.
        static let workers = 4
        /// The server's RSS is read every this many cycles, to show growth (or its absence) along the run.
        static let checkpointEvery = 10_000

        @Test(.timeLimit(.minutes(70)))
        func connectCloseCyclesLeaveNoDescriptorOrMemoryBehind() async throws {
            try await withEchoServer { echoPort in
                try await ServerUnderTest.with { server in
                    let port = try await server.createProxy("churn", upstreamPort: echoPort)
                    let idleDescriptors = try server.openDescriptors()

                    // Warm-up: the allocator's pools and every lazily created structure exist afterwards.
                    let warmUp = await Self.churn(port: port, cycles: 2_000, budget: .seconds(60), server: nil)
                    #expect(warmUp.failures.isEmpty, "warm-up failures: \(warmUp.failures)")
                    let (baselineDescriptors, baselineResident) = try await server.baselineAfterWarmUp(
                        idleDescriptors: idleDescriptors
                    )

                    let sampler = ResourceSampler(server)
                    let cpu = CPUWindow(server)
                    let run = await Self.churn(
                        port: port,
                        cycles: ReliabilityProfile.churnCycles,
                        budget: ReliabilityProfile.churnTimeBudget,
                        server: server
                    )
                    let peaks = await sampler.stop()
                    let cpuSummary = cpu.summary
                    try server.requireRunning("after \(run.cycles) connect/close cycles")

                    // Every descriptor comes back: the kernel has closed the client side of every cycle, so the
                    // server's side must go too (no slack: nothing else talks to the server meanwhile).
                    let after = try await server.waitForDescriptors(atMost: baselineDescriptors, timeout: .seconds(15))
                    // Memory: see `residentBound`.
                    let bound = Self.residentBound(cycles: run.cycles)
                    let resident = try await server.waitForResident(
                        atMost: baselineResident + bound,
                        timeout: .seconds(10)
                    )
                    // At most ten of them, evenly spaced, ending with the last.
                    let step = max(1, run.checkpoints.count / 10)
                    let checkpoints = stride(from: run.checkpoints.count - 1, through: 0, by: -step).reversed().map {
                        "\(run.checkpoints[$0].cycles / 1000)k: \(mebibytes(run.checkpoints[$0].residentBytes))"
                    }
                    let rate = Double(run.cycles) / max(run.elapsed.milliseconds / 1000, 0.001)
                    report(
                        "churn",
                        "\(run.cycles) cycles in \(format(run.elapsed.milliseconds)) (\(Int(rate))/s, \(Self.workers) "
                            + "threads, echo+FIN / FIN / RST in turn), \(run.failures.values.reduce(0, +)) failed; "
                            + "descriptors \(baselineDescriptors) before, peak \(peaks.descriptors), \(after.count) after; "
                            + "RSS \(mebibytes(baselineResident)) before, peak \(mebibytes(peaks.residentBytes)), "
                            + "\(mebibytes(resident.bytes)) after (bound +\(mebibytes(bound))); checkpoints \(checkpoints); \(cpuSummary)"
                    )

                    #expect(run.failures.isEmpty, "failed cycles: \(run.failures)")
                    #expect(
                        run.cycles == ReliabilityProfile.churnCycles,
                        "only \(run.cycles) of \(ReliabilityProfile.churnCycles) cycles in \(ReliabilityProfile.churnTimeBudget)"
                    )
                    #expect(
                        after.reached,
                        "\(after.count) descriptors after the churn, \(baselineDescriptors) before: \(server.descriptorKinds())"
                    )
                    #expect(
                        resident.reached,
                        "RSS \(mebibytes(resident.bytes)) after \(run.cycles) cycles, \(mebibytes(baselineResident)) before"
                    )
                }
            }
        }

        /// How much the server's RSS may exceed its post-warm-up figure after `cycles` cycles.
        ///
        /// Measured (release build): +0.2 MiB after the CI form's 100,000 cycles, flat from one 10,000-cycle
        /// checkpoint to the next. The bound, 4 MiB plus 0.5 MiB per 10,000 cycles (9 MiB for the CI form),
        /// is forty times that; a leak of 95 bytes a cycle breaks it in the CI form and of 57 bytes in the
        /// long form (1,000,000 cycles), and the smallest thing a leaked connection leaves behind (a NIO
        /// channel, two per cycle) is well over a kilobyte.
        static func residentBound(cycles: Int) -> Int {
            4 * 1_048_576 + cycles * (1_048_576 / 2) / 10_000
        }

        struct Checkpoint: Sendable {
            var cycles: Int
            var residentBytes: Int
        }

        struct Outcome: Sendable {
            var cycles = 0
            var elapsed = Duration.zero
            /// Failure descriptions and how often each happened.
            var failures: [String: Int] = [:]
            var checkpoints: [Checkpoint] = []
        }

        private struct State {
            var claimed = 0
            var outcome = Outcome()
        }

        /// Runs up to `cycles` connect/close cycles on `workers` threads, stopping early when `budget` is spent.
        /// Cycles take turns: connect, echo 8 bytes, close (FIN); connect and close at once, before the proxy
        /// has dialled its upstream (FIN); connect and reset (RST).
        static func churn(port: Int, cycles: Int, budget: Duration, server: ServerUnderTest?) async -> Outcome {
            let state = NIOLockedValueBox(State())
            let start = ContinuousClock.now
            let deadline = start + budget
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<Self.workers {
                    group.addTask {
                        await onThread {
                            while true {
                                let cycle: Int? = state.withLockedValue { state in
                                    guard state.claimed < cycles, ContinuousClock.now < deadline else { return nil }
                                    state.claimed += 1
                                    return state.claimed - 1
                                }
                                guard let cycle else { return }
                                let failure = Self.cycle(cycle, port: port)
                                let checkpoint = state.withLockedValue { state -> Bool in
                                    state.outcome.cycles += 1
                                    if let failure { state.outcome.failures[failure, default: 0] += 1 }
                                    return state.outcome.cycles % Self.checkpointEvery == 0
                                }
                                if checkpoint, let server, let resident = try? server.residentBytes() {
                                    state.withLockedValue {
                                        $0.outcome.checkpoints.append(
                                            Checkpoint(cycles: $0.outcome.cycles, residentBytes: resident)
                                        )
                                    }
                                }
                            }
                        }
                    }
                }
            }
            var outcome = state.withLockedValue { $0.outcome }
            outcome.elapsed = ContinuousClock.now - start
            outcome.checkpoints.sort { $0.cycles < $1.cycles }
            return outcome
        }

        /// One cycle; nil when it went as it should, else what went wrong.
        private static func cycle(_ cycle: Int, port: Int) -> String? {
            do {
                let descriptor = try BlockingSocket.connect(port: port)
                switch cycle % 3 {
                case 0:
                    defer { close(descriptor) }
                    try BlockingSocket.echo(descriptor, UInt64(cycle))
                case 1:
                    close(descriptor)
                default:
                    BlockingSocket.closeWithReset(descriptor)
                }
                return nil
            } catch {
                return error.description
            }
        }
    }
}
