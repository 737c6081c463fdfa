import NIOCore
import NIOPosix

/// A server under test, running, with one proxy in front of each upstream.
struct RunningServer: Sendable {
    static let echoProxy = "bench_echo"
    static let sinkProxy = "bench_sink"
    static let sourceProxy = "bench_source"

    let label: String
    let process: ServerProcess
    let echoPort: Int
    let sinkPort: Int
    let sourcePort: Int

    static func start(
        label: String,
        path: String,
        upstreams: Upstreams,
        group: any EventLoopGroup
    ) async throws
        -> RunningServer
    {
        let process = try await ServerProcess.start(path: path, group: group)
        do {
            let admin = process.admin
            return RunningServer(
                label: label,
                process: process,
                echoPort: try await admin.createProxy(name: echoProxy, upstreamPort: upstreams.echoPort),
                sinkPort: try await admin.createProxy(name: sinkProxy, upstreamPort: upstreams.sinkPort),
                sourcePort: try await admin.createProxy(name: sourceProxy, upstreamPort: upstreams.sourcePort)
            )
        } catch {
            await process.stop()
            throw error
        }
    }
}

/// Where a workload's client connects: straight to the upstream, or through a server's proxy.
enum Endpoint: Sendable {
    case direct
    case server(RunningServer)

    var label: String {
        switch self {
        case .direct: "direct"
        case .server(let server): server.label
        }
    }
}

/// The measurements. Each returns one run's figure(s); the caller repeats runs and takes medians.
struct Workloads: Sendable {
    let clientGroup: any EventLoopGroup
    let adminGroup: any EventLoopGroup
    let upstreams: Upstreams
    let sizes: Sizes

    private func echoPort(_ endpoint: Endpoint) -> Int {
        switch endpoint {
        case .direct: self.upstreams.echoPort
        case .server(let server): server.echoPort
        }
    }

    // MARK: Bulk throughput

    /// MiB/s from the moment every stream starts writing until the sink has every byte.
    func bulk(_ endpoint: Endpoint, streams: Int, bytesPerStream: Int) async throws -> Double {
        let port =
            switch endpoint {
            case .direct: self.upstreams.sinkPort
            case .server(let server): server.sinkPort
            }
        let done = self.clientGroup.next().makePromise(of: UInt64.self)
        self.upstreams.sink.arm(bytesPerStream: bytesPerStream, streams: streams, done: done)
        var channels: [any Channel] = []
        do {
            for _ in 0..<streams {
                let channel = try await Clients.connect(group: self.clientGroup, port: port) { channel in
                    try channel.syncOptions?.setOption(.writeBufferWaterMark, value: BulkIO.waterMark)
                    try channel.pipeline.syncOperations.addHandler(BulkWriterHandler(total: bytesPerStream))
                }.get(within: .seconds(10), "connect to port \(port)")
                channels.append(channel)
            }
            let totalBytes = streams * bytesPerStream
            // Slow enough to notice a stall, generous enough for a busy machine.
            let timeout = TimeAmount.seconds(30 + Int64(totalBytes / (20 << 20)))
            let start = nowNanos()
            for channel in channels {
                channel.pipeline.fireUserInboundEventTriggered(BulkWriterHandler.Start())
            }
            let end = try await done.futureResult.get(within: timeout, "\(totalBytes) bytes to reach the sink")
            await Clients.closeAll(channels)
            return Double(totalBytes) / 1_048_576 / (Double(end - start) / 1e9)
        } catch {
            self.upstreams.sink.disarm()
            done.fail(error)
            await Clients.closeAll(channels)
            throw error
        }
    }

    // MARK: Request/response

    /// Round-trip times in µs of 1-byte request/response on one kept-alive connection.
    func requestResponse(_ endpoint: Endpoint) async throws -> [Double] {
        let samples = try await self.roundTrips(
            port: self.echoPort(endpoint),
            connections: 1,
            warmup: self.sizes.roundTripWarmup,
            perConnection: self.sizes.roundTrips,
            timeout: .seconds(120)
        )
        return samples.map { Double($0) / 1000 }
    }

    /// Runs `connections` ping-pong connections at once; returns every measured round trip in ns.
    private func roundTrips(
        port: Int,
        connections: Int,
        warmup: Int,
        perConnection: Int,
        timeout: TimeAmount
    ) async throws -> [UInt64] {
        var runs: [(EventLoopFuture<any Channel>, EventLoopPromise<[UInt64]>)] = []
        for _ in 0..<connections {
            let eventLoop = self.clientGroup.next()
            let done = eventLoop.makePromise(of: [UInt64].self)
            let channel = Clients.connect(group: eventLoop, port: port) { channel in
                try channel.pipeline.syncOperations.addHandler(
                    PingPongHandler(warmup: warmup, measured: perConnection, done: done)
                )
            }
            channel.whenFailure { done.fail($0) }
            runs.append((channel, done))
        }
        var samples: [UInt64] = []
        var channels: [any Channel] = []
        var firstError: (any Error)?
        // Shared deadlines: the connections run at once, so their waits must not add up.
        let connectDeadline = Deadline(.seconds(10))
        let doneDeadline = Deadline(timeout + .seconds(10))
        for (index, (channel, done)) in runs.enumerated() {
            let which = "connection \(index + 1) of \(connections) to port \(port)"
            var appended = false
            do {
                channels.append(try await channel.get(within: connectDeadline.remaining, "\(which): connect"))
                appended = true
                samples += try await done.futureResult.get(
                    within: doneDeadline.remaining,
                    "\(which): \(warmup + perConnection) round trips"
                )
            } catch {
                if !appended {
                    channel.whenSuccess { $0.close(promise: nil) }
                }
                firstError = firstError ?? error
            }
        }
        await Clients.closeAll(channels)
        if let firstError { throw firstError }
        return samples
    }

    // MARK: Connection set-up

    /// Connections per second, each: connect, 1-byte round trip, close; a few workers in parallel.
    func connectionSetup(_ endpoint: Endpoint) async throws -> Double {
        let port = self.echoPort(endpoint)
        let workers = self.sizes.setupConcurrency
        let perWorker = self.sizes.setupConnections / workers
        let start = nowNanos()
        let futures = (0..<workers).map { _ in
            SetupWorker(eventLoop: self.clientGroup.next(), port: port, count: perWorker).run()
        }
        let deadline = Deadline(.seconds(120))
        for (index, future) in futures.enumerated() {
            try await future.get(
                within: deadline.remaining,
                "set-up loop \(index + 1) of \(workers) (\(perWorker) connections to port \(port))"
            )
        }
        let seconds = Double(nowNanos() - start) / 1e9
        return Double(workers * perWorker) / seconds
    }

    // MARK: Idle memory

    /// KiB of server RSS per idle proxied connection, on a fresh server process so earlier workloads'
    /// freed-but-kept heap does not hide the cost.
    func idleMemory(label: String, path: String) async throws -> Double {
        let count = self.sizes.idleConnections
        let server = try await ServerProcess.start(path: path, group: self.adminGroup)
        var channels: [any Channel] = []
        do {
            let port = try await server.admin.createProxy(name: "bench_idle", upstreamPort: self.upstreams.echoPort)
            // A warm-up batch first, so one-time costs (thread caches, pools, the first accept) are not
            // charged to the measured connections.
            let warmup = try await self.openEchoed(port: port, count: 100)
            await Clients.closeAll(warmup)
            let before = try await stableResidentBytes(server)
            channels = try await self.openEchoed(port: port, count: count)
            let after = try await stableResidentBytes(server)
            await Clients.closeAll(channels)
            await server.stop()
            return Double(after - before) / Double(count) / 1024
        } catch {
            await Clients.closeAll(channels)
            await outsideBudget { await server.stop() }
            throw error
        }
    }

    /// Opens connections that have each completed one echo, so the proxy has dialled every upstream.
    private func openEchoed(port: Int, count: Int) async throws -> [any Channel] {
        try await Clients.openMany(
            group: self.clientGroup,
            port: port,
            count: count,
            batch: 250,
            timeout: .seconds(20)
        ) { echoed in
            EchoOnceHandler(echoed: echoed)
        }
    }

    /// RSS once it has stopped moving (5 readings 100 ms apart within 1 %), or the last reading after 15 s.
    private func stableResidentBytes(_ server: ServerProcess) async throws -> Int {
        var readings: [Int] = []
        let deadline = nowNanos() + 15_000_000_000
        while nowNanos() < deadline {
            readings.append(try server.residentBytes())
            let recent = readings.suffix(5)
            if recent.count == 5, let low = recent.min(), let high = recent.max(),
                Double(high - low) <= 0.01 * Double(high)
            {
                return high
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        progress("  RSS of \(server.path) did not settle within 15 s; using the last reading")
        return readings.last ?? 0
    }

    // MARK: Admin API under load

    /// Milliseconds per admin call; a call that timed out counts as the timeout (a lower bound).
    struct AdminSamples: Sendable {
        var latencies: [Double] = []
        var timedOut = false
    }

    static let adminCallTimeout = TimeAmount.seconds(30)

    /// Adds, then removes, a latency toxic while `adminStreams` connections stream through the proxy at
    /// full speed. Stops at the first call that times out: the server is still busy with it, so later
    /// calls would only queue behind it.
    func adminLatency(_ server: RunningServer) async throws -> AdminSamples {
        let channels = try await Clients.openMany(
            group: self.clientGroup,
            port: server.sourcePort,
            count: self.sizes.adminStreams,
            batch: 200,
            timeout: .seconds(30)
        ) { firstBytes in
            StreamReader(firstBytes: firstBytes)
        }
        progress("  \(channels.count) streams flowing")
        let admin = server.process.admin
        let timeout = Self.adminCallTimeout
        var samples = AdminSamples()
        var toxicMayExist = false
        do {
            // A server whose calls take seconds under this load would otherwise keep the benchmark for
            // hours; what it manages within the budget is enough to show that.
            let deadline = nowNanos() + self.sizes.adminBudgetSeconds * 1_000_000_000
            for _ in 0..<self.sizes.adminPairs where nowNanos() < deadline {
                toxicMayExist = true
                let start = nowNanos()
                let added = try await admin.addToxic(
                    proxy: RunningServer.sourceProxy,
                    name: "bench_admin",
                    type: "latency",
                    stream: "downstream",
                    attributes: #"{"latency":100}"#,
                    timeout: timeout
                )
                samples.latencies.append(Double(added - start) / 1e6)
                let removalStart = nowNanos()
                let removed = try await admin.removeToxic(
                    proxy: RunningServer.sourceProxy,
                    name: "bench_admin",
                    timeout: timeout
                )
                samples.latencies.append(Double(removed - removalStart) / 1e6)
                toxicMayExist = false
            }
        } catch let error as TimedOut {
            progress("  \(error)")
            samples.latencies.append(Double(timeout.nanoseconds) / 1e6)
            samples.timedOut = true
        } catch {
            await outsideBudget { await self.stopStreams(channels, server: server, removeToxic: toxicMayExist) }
            throw error
        }
        await outsideBudget { await self.stopStreams(channels, server: server, removeToxic: toxicMayExist) }
        return samples
    }

    /// Closes the streams first, so a slow server can finish a pending change quickly, then makes sure
    /// the toxic is gone for the next run.
    private func stopStreams(_ channels: [any Channel], server: RunningServer, removeToxic: Bool) async {
        await Clients.closeAll(channels)
        guard removeToxic else { return }
        let admin = server.process.admin
        let deadline = nowNanos() + 120_000_000_000
        while nowNanos() < deadline {
            // 404 means the timed-out add never landed or the removal already happened: either way, gone.
            let response = try? await admin.request(
                "DELETE",
                "/proxies/\(RunningServer.sourceProxy)/toxics/bench_admin",
                timeout: .seconds(60)
            )
            if let response, response.status == 204 || response.status == 404 {
                let check = try? await admin.request("GET", "/proxies/\(RunningServer.sourceProxy)/toxics/bench_admin")
                if check?.status == 404 { return }
            }
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
        progress("  could not remove the admin workload's toxic within 120 s")
    }

    // MARK: Latency toxic accuracy

    /// Round trips in ms through `endpoint`; with a server, under a 100 ms downstream latency toxic.
    func latencyRoundTrips(_ endpoint: Endpoint) async throws -> [Double] {
        let measure = {
            try await self.roundTrips(
                port: self.echoPort(endpoint),
                connections: self.sizes.latencyConnections,
                warmup: 1,
                perConnection: self.sizes.latencyRoundTripsPerConnection,
                timeout: .seconds(60)
            ).map { Double($0) / 1e6 }
        }
        guard case .server(let server) = endpoint else {
            return try await measure()
        }
        let admin = server.process.admin
        try await admin.addToxic(
            proxy: RunningServer.echoProxy,
            name: "bench_accuracy",
            type: "latency",
            stream: "downstream",
            attributes: #"{"latency":100,"jitter":0}"#
        )
        do {
            let samples = try await measure()
            try await admin.removeToxic(proxy: RunningServer.echoProxy, name: "bench_accuracy")
            return samples
        } catch {
            _ = await outsideBudget {
                try? await admin.removeToxic(proxy: RunningServer.echoProxy, name: "bench_accuracy", timeout: .seconds(10))
            }
            throw error
        }
    }

    // MARK: Bandwidth toxic

    enum BandwidthResult: Sendable {
        case rate(Double)
        /// The server refused the toxic, or accepted it and did not slow the stream.
        case unsupported
    }

    /// KB/s (1 KB = 1000 bytes, Toxiproxy's unit) received under a 1,000 KB/s downstream bandwidth toxic,
    /// from the first read to the last, so the first read's burst and connection set-up do not count.
    func bandwidth(_ server: RunningServer) async throws -> BandwidthResult {
        let admin = server.process.admin
        let body = #"{"name":"bench_bandwidth","type":"bandwidth","stream":"downstream","attributes":{"rate":1000}}"#
        let response = try await admin.request("POST", "/proxies/\(RunningServer.sourceProxy)/toxics", body: body)
        guard response.status == 200 else {
            progress("  the server refused the bandwidth toxic: HTTP \(response.status) \(response.body)")
            return .unsupported
        }
        do {
            let result = try await self.measureBandwidth(port: server.sourcePort)
            try await admin.removeToxic(proxy: RunningServer.sourceProxy, name: "bench_bandwidth")
            return result
        } catch {
            _ = await outsideBudget {
                try? await admin.removeToxic(proxy: RunningServer.sourceProxy, name: "bench_bandwidth", timeout: .seconds(10))
            }
            throw error
        }
    }

    private func measureBandwidth(port: Int) async throws -> BandwidthResult {
        let eventLoop = self.clientGroup.next()
        let firstBytes = eventLoop.makePromise(of: Void.self)
        let reached = eventLoop.makePromise(of: StreamReader.Timing.self)
        let target = self.sizes.bandwidthBytes
        let connected = Clients.connect(group: eventLoop, port: port) { channel in
            try channel.pipeline.syncOperations.addHandler(
                StreamReader(firstBytes: firstBytes, target: target, reachedTarget: reached)
            )
        }
        connected.whenFailure { error in
            firstBytes.fail(error)
            reached.fail(error)
        }
        let channel = try await connected.get(within: .seconds(10), "connect to port \(port)")
        defer { channel.close(promise: nil) }
        let timing = try await reached.futureResult.get(
            within: .seconds(30 + Int64(target / 200_000)),
            "\(target) bytes through the bandwidth toxic"
        )
        let seconds = Double(timing.targetReached - timing.firstRead) / 1e9
        let kilobytesPerSecond = Double(timing.totalBytes - timing.firstReadBytes) / 1000 / max(seconds, 1e-9)
        // A working 1,000 KB/s toxic cannot be ten times faster; such a server accepts the toxic but has
        // no bandwidth stage behind it.
        if kilobytesPerSecond > 10_000 {
            progress("  the bandwidth toxic did not slow the stream: \(formatNumber(kilobytesPerSecond)) KB/s")
            return .unsupported
        }
        return .rate(kilobytesPerSecond)
    }
}
