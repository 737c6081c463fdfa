import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import ToxiproxyClient
import ToxiproxyModel
import ToxiproxyServer
import ToxiproxyTestSupport

/// `withToxiproxyServer`: a whole server in the test process, gone with every port when the body ends.
@Suite
struct EmbeddedServerTests {
    struct Marker: Error {}

    @Test
    func itServesTheAdminAPIAndProxiesTraffic() async throws {
        try await withEchoServer { upstream in
            try await withToxiproxyServer { toxiproxy in
                #expect(toxiproxy.adminURL == "http://127.0.0.1:\(toxiproxy.adminPort)")
                let (listen, port) = try await toxiproxy.createProxy(name: "svc", upstream: "127.0.0.1:\(upstream)")
                #expect(listen == "127.0.0.1:\(port)" && port != 0)
                try await ToxiproxyClient.withClient(baseURL: toxiproxy.adminURL) { client in
                    #expect(try await client.version() == "2.12.0")
                    let proxies = try await client.proxies()
                    #expect(proxies.map(\.name) == ["svc"] && proxies.first?.listen == listen)
                    _ = try await client.createProxy(name: "other", listen: "127.0.0.1:0", upstream: "127.0.0.1:1")
                }
                #expect(await toxiproxy.registry.proxyList().map(\.name).sorted() == ["other", "svc"])
                let roundTrips = try await RoundTrips.measure(port: port, count: 3, interval: .milliseconds(5))
                #expect(roundTrips.count == 3)
            }
        }
    }

    @Test
    func everyPortIsFreeAndEveryConnectionClosedAfterTheBody() async throws {
        try await withEchoServer { upstream in
            let (adminPort, proxyPort, live) = try await withToxiproxyServer { toxiproxy in
                let (_, port) = try await toxiproxy.createProxy(name: "svc", upstream: "127.0.0.1:\(upstream)")
                // A connection still open when the body returns.
                let live = try await TCPTestClient.connect(port: port)
                try await live.channel.writeAndFlush(ByteBuffer(string: "ping"))
                return (toxiproxy.adminPort, port, live)
            }
            let ended = try await live.executeThenClose { inbound, _ in
                var received = 0
                for try await buffer in inbound { received += buffer.readableBytes }
                return received
            }
            #expect(ended == 4, "the echo arrived, then the server closed the connection")
            for port in [adminPort, proxyPort] {
                await #expect(throws: (any Error).self, "port \(port) still accepts") {
                    _ = try await TCPTestClient.connect(port: port)
                }
                let rebound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: "127.0.0.1", port: port).get()
                try await rebound.close()
            }
        }
    }

    @Test
    func theBodysErrorComesThroughAndTheServerStops() async throws {
        let port = SharedPort()
        await #expect(throws: Marker.self) {
            try await withToxiproxyServer { toxiproxy in
                port.set(toxiproxy.adminPort)
                throw Marker()
            }
        }
        let adminPort = try #require(port.value)
        await #expect(throws: (any Error).self) { _ = try await TCPTestClient.connect(port: adminPort) }
    }

    @Test
    func theConfigurationIsAppliedWithTheHostAndPortReplaced() async throws {
        try await withEchoServer { upstream in
            try await withToxiproxyServer(configuration: .init(host: "0.0.0.0", port: 1, proxyMetrics: true)) {
                toxiproxy in
                #expect(toxiproxy.adminURL == "http://127.0.0.1:\(toxiproxy.adminPort)")
                let (_, port) = try await toxiproxy.createProxy(name: "svc", upstream: "127.0.0.1:\(upstream)")
                _ = try await RoundTrips.measure(port: port, count: 1, interval: .zero)
                let response = try await AdminClient(port: toxiproxy.adminPort).get("/metrics")
                #expect(response.status == 200)
                #expect(
                    response.body.contains(#"toxiproxy_proxy_connections_accepted_total{proxy="svc"}"#),
                    "proxy metrics were asked for"
                )
            }
        }
    }
}

/// A port handed out of a body.
private final class SharedPort: Sendable {
    private let box = NIOLockedValueBox<Int?>(nil)
    func set(_ port: Int) { self.box.withLockedValue { $0 = port } }
    var value: Int? { self.box.withLockedValue { $0 } }
}
