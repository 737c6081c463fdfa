import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@main
enum BenchmarkCommand {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let options: Options
        do {
            options = try Options.parse(arguments)
        } catch {
            if !error.description.isEmpty {
                progress("Benchmarks: \(error.description)")
            }
            progress(Options.usage)
            exit(error.description.isEmpty ? 0 : 2)
        }
        ChildRegistry.installSignalHandlers()
        do {
            try await Benchmark(options: options, arguments: arguments).run()
        } catch {
            progress("Benchmarks failed: \(error)")
            exit(1)
        }
    }
}

/// Runs every selected workload against direct, our server and the compare server, then reports.
struct Benchmark {
    let options: Options
    let arguments: [String]
    let sizes: Sizes

    init(options: Options, arguments: [String]) {
        self.options = options
        self.arguments = arguments
        self.sizes = options.quick ? .quick : .full
    }

    func run() async throws {
        let serverPath = self.options.server ?? Self.defaultServerPath()
        guard access(serverPath, X_OK) == 0 else {
            throw BenchmarkError(
                "no server binary at \(serverPath): build it with "
                    + "`swift build -c release --product toxiproxy-server`, or pass --server PATH"
            )
        }
        if let compare = self.options.compareServer, access(compare, X_OK) != 0 {
            throw BenchmarkError("--compare-server \(compare) is not an executable file")
        }
        // Client and in-process upstream sockets here, client and upstream sockets in the server.
        Machine.raiseOpenFileLimit(needed: 2 * self.sizes.idleConnections + 1_000)

        let startCPU = CPUSample.now()
        let startLoad = Machine.loadAverage
        // Separate groups so the admin client's timing is not queued behind streaming traffic, and so
        // the upstream and the client of one connection run on different threads, as they would across
        // machines.
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let upstreamGroup = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let rows: [Row]
        do {
            let upstreams = try await Upstreams.start(group: upstreamGroup)
            let workloads = Workloads(
                clientGroup: clientGroup,
                adminGroup: adminGroup,
                upstreams: upstreams,
                sizes: self.sizes
            )
            var servers: [(label: String, path: String)] = [("ours", serverPath)]
            if let compare = self.options.compareServer {
                servers.append(("compare", compare))
            }
            do {
                rows = try await self.measure(workloads: workloads, servers: servers, adminGroup: adminGroup)
            } catch {
                await upstreams.stop()
                throw error
            }
            await upstreams.stop()
        } catch {
            await Self.shutdown([clientGroup, upstreamGroup, adminGroup])
            throw error
        }
        await Self.shutdown([clientGroup, upstreamGroup, adminGroup])
        let endCPU = CPUSample.now()

        let table = renderTable(rows, withCompare: self.options.compareServer != nil)
        print(table)
        let machine = self.machineSection(
            serverPath: serverPath,
            load: "load average (1, 5, 15 min) \(startLoad) at the start, \(Machine.loadAverage) at the end; "
                + CPUSample.othersDescription(from: startCPU, to: endCPU)
        )
        print(machine)
        if let output = self.options.output {
            try writeResults(path: output, generated: "# Benchmark results\n\n" + table + "\n" + machine)
            progress("wrote \(output)")
        }
    }

    private static func shutdown(_ groups: [MultiThreadedEventLoopGroup]) async {
        for group in groups {
            try? await group.shutdownGracefully()
        }
    }

    // MARK: Workloads

    /// Starts the servers under test, runs the workloads, and stops the servers on every path.
    private func measure(
        workloads: Workloads,
        servers: [(label: String, path: String)],
        adminGroup: any EventLoopGroup
    ) async throws -> [Row] {
        var running: [RunningServer] = []
        var notStarted: [String: String] = [:]
        do {
            for server in servers {
                do {
                    running.append(
                        try await RunningServer.start(
                            label: server.label,
                            path: server.path,
                            upstreams: workloads.upstreams,
                            group: adminGroup
                        )
                    )
                } catch let error where server.label != "ours" {
                    // A compare server that cannot even be set up has its cells say so; ours is still measured.
                    progress("[\(server.label)] did not start: \(error)")
                    notStarted[server.label] = "did not start: "
                        + "\(error)".split(whereSeparator: { $0 == "\n" || $0 == "|" }).joined(separator: " ")
                }
            }
            let started = servers.filter { server in running.contains { $0.label == server.label } }
            var rows = await self.runWorkloads(workloads, running: running, servers: started)
            for (label, reason) in notStarted {
                for index in rows.indices {
                    rows[index].set(reason, for: column(label))
                }
            }
            for server in running { await server.process.stop() }
            return rows
        } catch {
            for server in running { await server.process.stop() }
            throw error
        }
    }

    /// Every selected workload, each run measuring direct, ours and compare back to back. A failed
    /// measurement marks its cell and the rest go on.
    private func runWorkloads(
        _ workloads: Workloads,
        running: [RunningServer],
        servers: [(label: String, path: String)]
    ) async -> [Row] {
        let runs = self.options.runs
        let only = self.options.only
        let sizes = self.sizes
        let endpoints: [Endpoint] = [.direct] + running.map { .server($0) }
        let budgets = Budgets(sizes)
        var rows: [Row] = []

        if only.contains(.bulk) {
            var one = Row(title: "bulk throughput, 1 stream (MiB/s)", goal: .ratioAtLeast(0.5))
            var eight = Row(title: "bulk throughput, 8 streams (MiB/s)", goal: .ratioAtLeast(0.5))
            var unfinishedOne: Set<String> = []
            var unfinishedEight: Set<String> = []
            for run in 1...runs {
                for endpoint in endpoints {
                    await record(&one, endpoint.label, "bulk 1 stream, run \(run)", budget: budgets.bulk1,
                                 unfinished: &unfinishedOne) {
                        try await workloads.bulk(endpoint, streams: 1, bytesPerStream: sizes.bulkBytes1)
                    }
                    await record(&eight, endpoint.label, "bulk 8 streams, run \(run)", budget: budgets.bulk8,
                                 unfinished: &unfinishedEight) {
                        try await workloads.bulk(endpoint, streams: 8, bytesPerStream: sizes.bulkBytesPerStream8)
                    }
                }
            }
            rows += [one, eight]
        }

        if only.contains(.rr) {
            var p50 = Row(title: "1-byte request/response, kept-alive, p50 (µs)", goal: .ratioAtMost(1.6))
            var p99 = Row(title: "1-byte request/response, kept-alive, p99 (µs)", goal: .ratioAtMost(2.5))
            var unfinished: Set<String> = []
            for run in 1...runs {
                for endpoint in endpoints {
                    await recordPercentiles(&p50, &p99, endpoint.label, "request/response, run \(run)",
                                            budget: budgets.requestResponse, unfinished: &unfinished) {
                        try await workloads.requestResponse(endpoint)
                    }
                }
            }
            rows += [p50, p99]
        }

        if only.contains(.setup) {
            let parallel = sizes.setupConcurrency
            var setup = Row(
                title: "connection set-up: connect, 1-byte round trip, close (conn/s, \(parallel) in parallel)",
                goal: .ratioAtLeast(0.5)
            )
            var unfinished: Set<String> = []
            for run in 1...runs {
                for endpoint in endpoints {
                    await record(&setup, endpoint.label, "connection set-up, run \(run)", budget: budgets.setup,
                                 unfinished: &unfinished) {
                        try await workloads.connectionSetup(endpoint)
                    }
                }
            }
            rows.append(setup)
        }

        if only.contains(.memory) {
            let connections = fixed(Double(sizes.idleConnections), decimals: 0)
            var memory = Row(
                title: "memory per idle proxied connection, RSS delta at \(connections) (KiB)",
                goal: .atMost(16)
            )
            var unfinished: Set<String> = []
            for run in 1...runs {
                for server in servers {
                    await record(&memory, server.label, "idle memory, run \(run)", budget: budgets.memory,
                                 unfinished: &unfinished) {
                        try await workloads.idleMemory(label: server.label, path: server.path)
                    }
                }
            }
            rows.append(memory)
        }

        if only.contains(.admin) {
            let streams = fixed(Double(sizes.adminStreams), decimals: 0)
            let title = "admin toxic add/remove while \(streams) connections stream"
            var p50 = Row(title: "\(title), p50 (ms)", goal: .none)
            var p99 = Row(title: "\(title), p99 (ms)", goal: .atMost(20))
            var timedOut: Set<String> = []
            for run in 1...runs {
                for server in running where !timedOut.contains(server.label) {
                    var censored = false
                    await recordPercentiles(&p50, &p99, server.label, "admin API under load, run \(run)",
                                            budget: budgets.admin, unfinished: &timedOut) {
                        let result = try await workloads.adminLatency(server)
                        censored = result.timedOut
                        return result.latencies
                    }
                    if censored {
                        timedOut.insert(server.label)
                        let seconds = Workloads.adminCallTimeout.nanoseconds / 1_000_000_000
                        p99.footnotes.append(
                            "\(server.label): a call took longer than the client's \(seconds) s timeout in run "
                                + "\(run); it counts as \(seconds) s (a lower bound) and the later runs were skipped."
                        )
                    }
                }
            }
            rows += [p50, p99]
        }

        if only.contains(.latency) {
            rows += await self.latencyAccuracy(workloads: workloads, endpoints: endpoints, budget: budgets.latency)
        }

        if only.contains(.bandwidth) {
            var bandwidth = Row(title: "bandwidth toxic 1,000 KB/s: measured rate (KB/s)", goal: .none)
            bandwidth.comparesToDirect = false
            var unsupported: Set<String> = []
            for run in 1...runs {
                for server in running where !unsupported.contains(server.label) {
                    progress("[\(server.label)] bandwidth toxic, run \(run)")
                    let start = nowNanos()
                    do {
                        switch try await WorkloadBudget.run(seconds: budgets.bandwidth, { try await workloads.bandwidth(server) }) {
                        case .rate(let rate):
                            progress("  \(formatNumber(rate))")
                            bandwidth.add(rate, to: column(server.label))
                        case .unsupported:
                            unsupported.insert(server.label)
                            bandwidth.set("n/a (no bandwidth toxic yet)", for: column(server.label))
                        }
                    } catch {
                        progress("  failed: \(error)")
                        if let cell = unfinishedCell(error, since: start) {
                            unsupported.insert(server.label)
                            bandwidth.set(cell, for: column(server.label))
                        } else {
                            bandwidth.set("failed", for: column(server.label))
                        }
                    }
                }
            }
            rows.append(bandwidth)
        }
        return rows
    }

    /// Delay added by a 100 ms latency toxic: each proxied round trip minus the same run's mean direct
    /// round trip. The direct column shows that baseline (the plain round trip), not a delay.
    private func latencyAccuracy(workloads: Workloads, endpoints: [Endpoint], budget: Int64) async -> [Row] {
        var mean = Row(title: "latency toxic 100 ms: mean added delay (ms)", goal: .within(centre: 100, tolerance: 1))
        var p99 = Row(title: "latency toxic 100 ms: p99 added delay (ms)", goal: .atMost(103))
        mean.comparesToDirect = false
        p99.comparesToDirect = false
        var unfinished: Set<String> = []
        for run in 1...self.options.runs {
            progress("[direct] latency baseline, run \(run)")
            let baseline: [Double]
            let baselineStart = nowNanos()
            do {
                baseline = try await WorkloadBudget.run(seconds: budget) { try await workloads.latencyRoundTrips(.direct) }
            } catch {
                progress("  failed: \(error)")
                if let cell = unfinishedCell(error, since: baselineStart) {
                    mean.set(cell, for: .direct)
                    p99.set(cell, for: .direct)
                }
                continue
            }
            let baselineMean = Stats.mean(baseline)
            progress("  mean round trip \(formatNumber(baselineMean)) ms")
            mean.add(baselineMean, to: .direct)
            p99.add(Stats.percentile(baseline, 99), to: .direct)
            for endpoint in endpoints.dropFirst() where !unfinished.contains(endpoint.label) {
                progress("[\(endpoint.label)] latency toxic accuracy, run \(run)")
                let start = nowNanos()
                do {
                    let delays = try await WorkloadBudget.run(seconds: budget) {
                        try await workloads.latencyRoundTrips(endpoint)
                    }.map { $0 - baselineMean }
                    let (delayMean, delayTail) = (Stats.mean(delays), Stats.percentile(delays, 99))
                    progress("  mean \(formatNumber(delayMean)), p99 \(formatNumber(delayTail))")
                    mean.add(Stats.mean(delays), to: column(endpoint.label))
                    p99.add(Stats.percentile(delays, 99), to: column(endpoint.label))
                } catch {
                    progress("  failed: \(error)")
                    let cell = unfinishedCell(error, since: start)
                    if cell != nil { unfinished.insert(endpoint.label) }
                    mean.set(cell ?? "failed", for: column(endpoint.label))
                    p99.set(cell ?? "failed", for: column(endpoint.label))
                }
            }
        }
        return [mean, p99]
    }

    // MARK: Report

    private func machineSection(serverPath: String, load: String) -> String {
        var command = "swift run -c release Benchmarks"
        if !self.arguments.isEmpty {
            command += " " + self.arguments.joined(separator: " ")
        }
        let compare = self.options.compareServer.map { "`\($0)`" } ?? "none (no --compare-server given)"
        #if DEBUG
        // A debug client is slow enough to become the bottleneck and flatten every ratio.
        let build = "\n- **Debug build of the benchmark: these figures are not representative; use -c release.**"
        #else
        let build = ""
        #endif
        return """
            Each figure is the median of \(self.options.runs) run\(self.options.runs == 1 ? "" : "s")\
            \(self.options.quick ? " with --quick sizes" : ""); direct = the same client against the upstream \
            with no proxy; ratios are of the medians.

            - Command: `\(command)`
            - Date: \(Self.utcDate())
            - Ours: `\(serverPath)`; compare: \(compare)
            - Machine: \(System.coreCount) cores, \(Machine.cpuModel), \(Machine.memory) RAM, \(Machine.kernel), \
            \(Machine.swiftVersion)
            - Load: \(load)\(build)

            """
    }

    private static func utcDate() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)) UTC"
    }

    /// The release build's `toxiproxy-server`, next to this executable.
    private static func defaultServerPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable =
            length > 0
            ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments[0]
        guard let slash = executable.lastIndex(of: "/") else { return "./toxiproxy-server" }
        return executable[..<slash] + "/toxiproxy-server"
    }
}

private func column(_ label: String) -> Row.Column {
    switch label {
    case "direct": .direct
    case "ours": .ours
    default: .compare
    }
}

/// Seconds each workload's run may take before it counts as not finished: generous for a working server
/// on a busy machine (each is well above the run's own inner timeouts where it has them), and short
/// enough that a server which cannot complete a workload costs minutes, not hours.
struct Budgets: Sendable {
    let bulk1: Int64
    let bulk8: Int64
    let requestResponse: Int64 = 150
    let setup: Int64 = 150
    let memory: Int64
    let admin: Int64
    let latency: Int64 = 150
    let bandwidth: Int64

    init(_ sizes: Sizes) {
        // The bulk workload's own wait is 30 s + 1 s per 20 MiB, after up to 10 s per connect.
        self.bulk1 = 60 + Int64(sizes.bulkBytes1 / (20 << 20))
        self.bulk8 = 120 + Int64(8 * sizes.bulkBytesPerStream8 / (20 << 20))
        // Server start (20 s), 20 s per batch of 250 connections (warm-up batch included), two RSS waits of 15 s.
        let batches = Int64((sizes.idleConnections + 249) / 250) + 1
        self.memory = 60 + 20 * batches + 30
        // 30 s per batch of 200 streams, the add/remove budget, one call's 30 s timeout, and slack.
        let streamBatches = Int64((sizes.adminStreams + 199) / 200)
        self.admin = 30 * streamBatches + Int64(sizes.adminBudgetSeconds) + 30 + 20
        self.bandwidth = 100 + Int64(sizes.bandwidthBytes / 200_000)
    }
}

/// The cell of a run that a server could not complete in time (its budget ran out, or one wait in it made no
/// progress within that wait's timeout), with how long it ran and the step it was at; nil for other failures.
private func unfinishedCell(_ error: any Error, since start: UInt64) -> String? {
    let elapsed = formatSeconds(Double(nowNanos() - start) / 1e9)
    switch error {
    case let error as DidNotFinish:
        return "did not finish: stopped after \(elapsed) (\(error.budgetSeconds) s budget) at \(error.step)"
    case let error as TimedOut:
        let limit = formatSeconds(Double(error.timeout.nanoseconds) / 1e9)
        return "did not finish: stopped after \(elapsed) at \(error.what), nothing within \(limit)"
    default:
        return nil
    }
}

/// Runs one measurement within its budget and adds its figure to the row; a failure marks the cell and the
/// run goes on. A run the server did not finish marks the cell "did not finish", and that endpoint's later
/// runs of the workload are skipped (they would only spend the budget again).
private func record(
    _ row: inout Row,
    _ label: String,
    _ what: String,
    budget: Int64,
    unfinished: inout Set<String>,
    _ body: () async throws -> Double
) async {
    guard !unfinished.contains(label) else { return }
    progress("[\(label)] \(what)")
    let start = nowNanos()
    do {
        let value = try await WorkloadBudget.run(seconds: budget, body)
        progress("  \(formatNumber(value))")
        row.add(value, to: column(label))
    } catch {
        progress("  failed: \(error)")
        if let cell = unfinishedCell(error, since: start) {
            unfinished.insert(label)
            row.set(cell, for: column(label))
        } else {
            row.set("failed", for: column(label))
        }
    }
}

/// Runs one measurement of many samples and adds their p50 and p99 to two rows.
private func recordPercentiles(
    _ p50: inout Row,
    _ p99: inout Row,
    _ label: String,
    _ what: String,
    budget: Int64,
    unfinished: inout Set<String>,
    _ body: () async throws -> [Double]
) async {
    guard !unfinished.contains(label) else { return }
    progress("[\(label)] \(what)")
    let start = nowNanos()
    do {
        let samples = try await WorkloadBudget.run(seconds: budget, body)
        guard !samples.isEmpty else { throw BenchmarkError("no samples") }
        let (median, tail) = (Stats.percentile(samples, 50), Stats.percentile(samples, 99))
        progress("  p50 \(formatNumber(median)), p99 \(formatNumber(tail)) (\(samples.count) samples)")
        p50.add(median, to: column(label))
        p99.add(tail, to: column(label))
    } catch {
        progress("  failed: \(error)")
        let cell = unfinishedCell(error, since: start)
        if cell != nil { unfinished.insert(label) }
        p50.set(cell ?? "failed", for: column(label))
        p99.set(cell ?? "failed", for: column(label))
    }
}
