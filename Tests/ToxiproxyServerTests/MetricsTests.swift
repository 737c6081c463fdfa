import Foundation
import NIOCore
import NIOPosix
import Testing
import ToxiproxyTestSupport

@testable import ToxiproxyServer

/// `GET /metrics` with `-proxy-metrics` and `-runtime-metrics`, against real sockets on 127.0.0.1.
@Suite(.serialized)
struct MetricsTests {
    @Test(.timeLimit(.minutes(1)))
    func withoutAMetricsFlagTheRouteDoesNotExist() async throws {
        try await withTestServer { server in
            for method in ["GET", "POST"] {
                let response = try await server.admin.send(method, "/metrics")
                #expect(response.status == 404)
                #expect(response.body == "404 page not found\n")
            }
        }
    }

    /// The reference counts a link's bytes only when it closes; ours as they flow, so a scrape during a
    /// connection shows exactly what went through so far, both directions.
    @Test(.timeLimit(.minutes(1)))
    func bytesAreCountedWhileTheConnectionIsOpen() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer(proxyMetrics: true) { server in
                let port = try await server.createProxy(name: "p", upstreamPort: echoPort)
                let labels = { (direction: String) in
                    #"{direction="\#(direction)",listener="127.0.0.1:\#(port)",proxy="p",upstream="127.0.0.1:\#(echoPort)"}"#
                }
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    var total = 0
                    for size in [1000, 70_000, 1] {
                        try await outbound.write(ByteBuffer(repeating: 0x61, count: size))
                        total += size
                        #expect(await watcher.waitForBytes(total))
                        let metrics = try await Self.scrape(server)
                        for direction in ["upstream", "downstream"] {
                            #expect(
                                metrics["toxiproxy_proxy_received_bytes_total" + labels(direction)] == Double(total)
                            )
                            #expect(metrics["toxiproxy_proxy_sent_bytes_total" + labels(direction)] == Double(total))
                        }
                        #expect(metrics[#"toxiproxy_proxy_connections_open{proxy="p"}"#] == 1)
                        #expect(metrics[#"toxiproxy_proxy_connections_accepted_total{proxy="p"}"#] == 1)
                        #expect(metrics[#"toxiproxy_proxy_upstream_dial_failures_total{proxy="p"}"#] == 0)
                    }
                    await watcher.stop()
                }
                let closed = try await eventually {
                    try await Self.scrape(server)[#"toxiproxy_proxy_connections_open{proxy="p"}"#] == 0
                }
                #expect(closed)
                // Runtime metrics are off.
                #expect(try await Self.scrape(server).keys.allSatisfy { !$0.hasPrefix("process_") })
            }
        }
    }

    /// The exposition text itself: content type, TYPE lines, the reference's label order, no HELP for its two.
    @Test(.timeLimit(.minutes(1)))
    func theExpositionIsPrometheusText() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer(proxyMetrics: true) { server in
                let port = try await server.createProxy(name: "p", upstreamPort: echoPort)
                #expect(try await Self.roundTrip(port: port, Array("hello".utf8)) == Array("hello".utf8))
                let response = try await server.admin.get("/metrics")
                #expect(response.status == 200)
                #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
                #expect(response.header("X-Toxiproxy-Request-Id") != nil)
                let lines = response.body.split(separator: "\n")
                #expect(lines.contains("# TYPE toxiproxy_proxy_received_bytes_total counter"))
                #expect(lines.contains("# TYPE toxiproxy_proxy_sent_bytes_total counter"))
                #expect(lines.contains("# TYPE toxiproxy_proxy_connections_open gauge"))
                #expect(!lines.contains { $0.hasPrefix("# HELP toxiproxy_proxy_received_bytes_total") })
                #expect(
                    lines.contains(
                        #"toxiproxy_proxy_sent_bytes_total{direction="downstream",listener="127.0.0.1:\#(port)",proxy="p",upstream="127.0.0.1:\#(echoPort)"} 5"#
                    )
                )
                let blocked = try await server.admin.send("GET", "/metrics", headers: [("User-Agent", "Mozilla/5.0")])
                #expect(blocked.status == 403)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aDeletedProxysSeriesDisappear() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer(proxyMetrics: true) { server in
                let port = try await server.createProxy(name: "gone", upstreamPort: echoPort)
                _ = try await server.createProxy(name: "kept", upstreamPort: echoPort)
                _ = try await Self.roundTrip(port: port, [1, 2, 3])
                #expect(try await Self.scrape(server).keys.contains { $0.contains(#"proxy="gone""#) })
                #expect(try await server.admin.delete("/proxies/gone").status == 204)
                let metrics = try await Self.scrape(server)
                #expect(!metrics.keys.contains { $0.contains(#"proxy="gone""#) })
                #expect(metrics[#"toxiproxy_proxy_connections_accepted_total{proxy="kept"}"#] == 0)
                // A new proxy of the same name starts from zero.
                _ = try await server.createProxy(name: "gone", upstreamPort: echoPort)
                #expect(
                    try await Self.scrape(server)[#"toxiproxy_proxy_connections_accepted_total{proxy="gone"}"#] == 0
                )
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func upstreamDialFailuresAreCounted() async throws {
        let closedPort = try await Loopback.freePort()
        try await withTestServer(proxyMetrics: true) { server in
            let port = try await server.createProxy(name: "dead", upstreamPort: closedPort)
            for _ in 0..<3 {
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, _ in
                    let watcher = ConnectionWatcher(inbound)
                    #expect(await watcher.waitForClose() != nil)
                    await watcher.stop()
                }
            }
            let counted = try await eventually {
                let metrics = try await Self.scrape(server)
                return metrics[#"toxiproxy_proxy_upstream_dial_failures_total{proxy="dead"}"#] == 3
                    && metrics[#"toxiproxy_proxy_connections_accepted_total{proxy="dead"}"#] == 3
                    && metrics[#"toxiproxy_proxy_connections_open{proxy="dead"}"#] == 0
            }
            #expect(counted)
        }
    }

    /// One count per connection (and direction) on which the toxic acted; none when its toxicity draw said
    /// no; the series goes with the toxic.
    @Test(.timeLimit(.minutes(1)))
    func toxicsCountTheConnectionsTheyActedOn() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer(proxyMetrics: true) { server in
                let port = try await server.createProxy(name: "p", upstreamPort: echoPort)
                try await server.addToxic(proxy: "p", #"{"name":"slow","type":"latency","attributes":{"latency":1}}"#)
                try await server.addToxic(
                    proxy: "p",
                    #"{"name":"never","type":"latency","stream":"upstream","toxicity":0,"attributes":{"latency":1}}"#
                )
                for _ in 0..<2 {
                    _ = try await Self.roundTrip(port: port, [1])
                }
                // Added while a connection is open: counted on it too.
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(bytes: [1]))
                    #expect(await watcher.waitForBytes(1))
                    try await server.addToxic(proxy: "p", #"{"name":"late","type":"noop"}"#)
                    let seen = try await eventually {
                        try await Self.scrape(server)[
                            #"toxiproxy_proxy_toxic_connections_total{proxy="p",toxic="late",type="noop",stream="downstream"}"#
                        ] == 1
                    }
                    #expect(seen)
                    await watcher.stop()
                }
                let metrics = try await Self.scrape(server)
                #expect(
                    metrics[
                        #"toxiproxy_proxy_toxic_connections_total{proxy="p",toxic="slow",type="latency",stream="downstream"}"#
                    ]
                        == 3
                )
                #expect(!metrics.keys.contains { $0.contains(#"toxic="never""#) })
                try await server.removeToxic(proxy: "p", "slow")
                #expect(!(try await Self.scrape(server)).keys.contains { $0.contains(#"toxic="slow""#) })
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func runtimeMetricsArePresentAndPlausible() async throws {
        try await withTestServer(runtimeMetrics: true) { server in
            let metrics = try await Self.scrape(server)
            #expect((metrics["process_resident_memory_bytes"] ?? 0) > 1024 * 1024)
            #expect((metrics["process_virtual_memory_bytes"] ?? 0) >= (metrics["process_resident_memory_bytes"] ?? 0))
            #expect((metrics["process_open_fds"] ?? 0) > 3)
            #expect((metrics["process_max_fds"] ?? 0) >= (metrics["process_open_fds"] ?? 0))
            #expect((metrics["process_threads"] ?? 0) >= 2)
            #expect((metrics["process_cpu_seconds_total"] ?? -1) >= 0)
            let now = Date().timeIntervalSince1970
            let start = metrics["process_start_time_seconds"] ?? 0
            #expect(start > now - 24 * 3600 && start <= now + 5, "start \(start), now \(now)")
            // Proxy metrics are off.
            _ = try await server.createProxy(name: "p", upstreamPort: 1)
            #expect(try await Self.scrape(server).keys.allSatisfy { !$0.hasPrefix("toxiproxy_") })
        }
    }

    // MARK: Pure parts

    @Test
    func processStatIsParsed() throws {
        // A command name with spaces and a parenthesis, as proc(5) allows.
        let stat =
            "4242 (toxi proxy) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 7 0 360000 "
            + "1073741824 5000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n"
        let sample = try #require(
            ProcessMetrics.parse(
                stat: stat,
                statm: "262144 5000 1000 10 0 2000 0\n",
                bootTime: 1_700_000_000,
                clockTicksPerSecond: 100,
                pageSize: 4096,
                openFileDescriptors: 12,
                maximumFileDescriptors: 1024
            )
        )
        #expect(
            sample
                == ProcessMetrics.Sample(
                    residentMemoryBytes: 5000 * 4096,
                    virtualMemoryBytes: 1_073_741_824,
                    openFileDescriptors: 12,
                    maximumFileDescriptors: 1024,
                    cpuSeconds: 4,
                    startTimeSeconds: 1_700_003_600,
                    threads: 7
                )
        )
        #expect(
            ProcessMetrics.parse(
                stat: "garbage",
                statm: "",
                bootTime: 0,
                clockTicksPerSecond: 100,
                pageSize: 1,
                openFileDescriptors: 0,
                maximumFileDescriptors: nil
            ) == nil
        )
    }

    @Test
    func processMetricsRenderAsPrometheusText() {
        let text = ProcessMetrics.render(
            .init(
                residentMemoryBytes: 10,
                virtualMemoryBytes: 20,
                openFileDescriptors: 3,
                maximumFileDescriptors: nil,
                cpuSeconds: 1.25,
                startTimeSeconds: 1_700_000_000.5,
                threads: 4
            )
        )
        let lines = text.split(separator: "\n").map(String.init)
        for line in [
            "# TYPE process_cpu_seconds_total counter", "process_cpu_seconds_total 1.25",
            "# TYPE process_resident_memory_bytes gauge", "process_resident_memory_bytes 10",
            "process_virtual_memory_bytes 20", "process_open_fds 3", "process_threads 4",
            "process_start_time_seconds 1700000000.5",
        ] {
            #expect(lines.contains(line), "missing \(line) in \(lines)")
        }
        #expect(!text.contains("process_max_fds"))
        #expect(ProcessMetrics.format(3) == "3")
    }

    // MARK: Helpers

    /// Sends `bytes` through the proxy to the echo server, waits for them to come back, and closes.
    static func roundTrip(port: Int, _ bytes: [UInt8]) async throws -> [UInt8] {
        let connection = try await TCPTestClient.connect(port: port)
        return try await connection.executeThenClose { inbound, outbound in
            let watcher = ConnectionWatcher(inbound)
            try await outbound.write(ByteBuffer(bytes: bytes))
            _ = await watcher.waitForBytes(bytes.count)
            let received = watcher.received
            await watcher.stop()
            return received
        }
    }

    /// Every sample of `/metrics` by `name{labels}` (as the text has it).
    static func scrape(_ server: TestServer) async throws -> [String: Double] {
        let response = try await server.admin.get("/metrics")
        guard response.status == 200 else { throw TestFailure("/metrics answered \(response)") }
        var samples: [String: Double] = [:]
        for line in response.body.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw TestFailure("bad sample line: \(line)")
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }
}
