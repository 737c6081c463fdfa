import NIOCore
import Testing
import ToxiproxyClient
import ToxiproxyModel
import ToxiproxyServer
import ToxiproxyTestSupport

/// The scoped helpers against a real server, with real traffic through the proxy: each impairment shows inside
/// its block only, and the proxy is back as it was after a return, a throw or a cancellation.
@Suite
struct ScopedImpairmentTests {
    /// A proxy `svc` in front of an echo server, the client, and the proxy's port.
    struct Fixture: Sendable {
        var client: ToxiproxyClient
        var proxy: ProxyHandle
        var port: Int

        /// The proxy's toxics by name, sorted.
        func toxicNames() async throws -> [String] {
            try await self.client.toxics(ofProxy: "svc").map(\.name).sorted()
        }

        /// The fastest of three echo round trips on a fresh connection, in milliseconds (the fastest, so a
        /// scheduling hiccup of the busy test machine cannot pass for latency).
        func roundTrip() async throws -> Double {
            try await RoundTrips.measure(port: self.port, count: 3, interval: .milliseconds(5)).min()!
        }
    }

    static func withFixture<T: Sendable>(_ body: @Sendable (Fixture) async throws -> T) async throws -> T {
        try await withEchoServer { upstream in
            try await withToxiproxyServer { toxiproxy in
                let (_, port) = try await toxiproxy.createProxy(name: "svc", upstream: "127.0.0.1:\(upstream)")
                return try await ToxiproxyClient.withClient(baseURL: toxiproxy.adminURL) { client in
                    try await body(Fixture(client: client, proxy: client.proxyHandle(named: "svc"), port: port))
                }
            }
        }
    }

    struct Marker: Error {}

    @Test
    func latencyShowsInsideTheBlockOnlyAndOnlyItsToxicIsRemoved() async throws {
        try await Self.withFixture { fixture in
            // Someone else's toxic, which the helper must leave alone.
            _ = try await fixture.client.addToxic(
                ToxicDefinition(name: "mine", type: "latency", stream: .upstream, attributes: [("latency", 0)]),
                toProxy: "svc"
            )
            #expect(try await fixture.roundTrip() < 150)
            let inside = try await fixture.proxy.withLatency(.milliseconds(300), stream: .downstream) {
                let toxics = try await fixture.client.toxics(ofProxy: "svc")
                let scoped = toxics.filter { $0.name.hasPrefix("scoped_latency_downstream_") }
                #expect(scoped.count == 1 && toxics.count == 2, "\(toxics)")
                #expect(scoped.first?.attributes["latency"] == 300 && scoped.first?.direction == .downstream)
                return try await fixture.roundTrip()
            }
            #expect(inside >= 290, "round trip inside the block: \(inside) ms")
            #expect(try await fixture.toxicNames() == ["mine"])
            let after = try await fixture.roundTrip()
            #expect(after < 150, "round trip after the block: \(after) ms")
        }
    }

    @Test
    func aThrowingBodyRestoresAndItsErrorComesThrough() async throws {
        try await Self.withFixture { fixture async throws in
            await #expect(throws: Marker.self) {
                try await fixture.proxy.withLatency(.milliseconds(200)) {
                    #expect(try await fixture.toxicNames().count == 1)
                    throw Marker()
                }
            }
            #expect(try await fixture.toxicNames().isEmpty)
            await #expect(throws: Marker.self) {
                try await fixture.proxy.withOutage {
                    #expect(try await !fixture.client.proxy(named: "svc").enabled)
                    throw Marker()
                }
            }
            #expect(try await fixture.client.proxy(named: "svc").enabled)
            #expect(try await fixture.roundTrip() < 150)
        }
    }

    @Test
    func cancellingTheEnclosingTaskRestoresBeforeItEnds() async throws {
        try await Self.withFixture { fixture async throws in
            let (entered, enteredContinuation) = AsyncStream.makeStream(of: Void.self)
            let task = Task {
                try await fixture.proxy.withOutage {
                    try await fixture.proxy.withTimeout(.zero) {
                        enteredContinuation.yield()
                        try await Task.sleep(for: .seconds(60))
                    }
                }
            }
            _ = await entered.first { _ in true }
            #expect(try await fixture.toxicNames().count == 1)
            #expect(try await !fixture.client.proxy(named: "svc").enabled)
            let start = ContinuousClock.now
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(milliseconds(since: start) < 5000)
            // Checked only after the task ended: the helpers restore before they return.
            #expect(try await fixture.toxicNames().isEmpty)
            #expect(try await fixture.client.proxy(named: "svc").enabled)
            #expect(try await fixture.roundTrip() < 150)
        }
    }

    @Test
    func anOutageRefusesConnectionsInsideAndTheProxyWorksAfter() async throws {
        try await Self.withFixture { fixture in
            let live = try await TCPTestClient.connect(port: fixture.port)
            try await fixture.proxy.withOutage {
                await #expect(throws: (any Error).self) { _ = try await TCPTestClient.connect(port: fixture.port) }
                // The connection that was open is cut: its stream ends.
                try await live.executeThenClose { inbound, _ in
                    for try await _ in inbound {}
                }
            }
            #expect(try await fixture.client.proxy(named: "svc").enabled)
            #expect(try await fixture.roundTrip() < 150)
        }
    }

    @Test
    func aProxyDisabledBeforeAnOutageStaysDisabled() async throws {
        try await Self.withFixture { fixture in
            _ = try await fixture.client.updateProxy(named: "svc", enabled: false)
            try await fixture.proxy.withOutage { () async throws in
                #expect(try await !fixture.client.proxy(named: "svc").enabled)
            }
            #expect(try await !fixture.client.proxy(named: "svc").enabled)
            await #expect(throws: (any Error).self) { _ = try await TCPTestClient.connect(port: fixture.port) }
        }
    }

    @Test
    func nestedHelpersStackAndEachRemovesOnlyItsOwn() async throws {
        try await Self.withFixture { fixture in
            try await fixture.proxy.withLatency(.milliseconds(150)) {
                let outer = try await fixture.toxicNames()
                try await fixture.proxy.withLatency(.milliseconds(150)) {
                    let both = try await fixture.toxicNames()
                    #expect(both.count == 2 && Set(both).isSuperset(of: outer), "\(both)")
                    #expect(both.allSatisfy { $0.hasPrefix("scoped_latency_downstream_") })
                    let stacked = try await fixture.roundTrip()
                    #expect(stacked >= 290, "two 150 ms latencies: \(stacked) ms")
                }
                #expect(try await fixture.toxicNames() == outer)
                let single = try await fixture.roundTrip()
                #expect(single >= 140, "one 150 ms latency: \(single) ms")
            }
            #expect(try await fixture.toxicNames().isEmpty)
        }
    }

    @Test
    func aTimeoutCutsTheConnectionInsideTheBlock() async throws {
        try await Self.withFixture { fixture in
            try await fixture.proxy.withTimeout(.milliseconds(200), stream: .upstream) {
                let start = ContinuousClock.now
                let connection = try await TCPTestClient.connect(port: fixture.port)
                let echoed = try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "hello"))
                    var received = 0
                    for try await buffer in inbound { received += buffer.readableBytes }
                    return received
                }
                let closedAfter = milliseconds(since: start)
                #expect(echoed == 0, "the timeout toxic holds the data")
                #expect(closedAfter >= 190 && closedAfter < 2000, "closed after \(closedAfter) ms")
            }
            #expect(try await fixture.toxicNames().isEmpty)
            #expect(try await fixture.roundTrip() < 150)
        }
    }

    @Test
    func bandwidthSlowsTheTransferInsideTheBlock() async throws {
        try await Self.withFixture { fixture in
            let payload = [UInt8](repeating: 7, count: 10_000)
            @Sendable func transfer() async throws -> Double {
                let start = ContinuousClock.now
                let connection = try await TCPTestClient.connect(port: fixture.port)
                try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: payload))
                    var received = 0
                    for try await buffer in inbound {
                        received += buffer.readableBytes
                        if received >= payload.count { break }
                    }
                }
                return milliseconds(since: start)
            }
            // 10 kB at 20 KB/s: about 500 ms.
            let slow = try await fixture.proxy.withBandwidth(rate: 20) { try await transfer() }
            #expect(slow >= 350, "10 kB at 20 KB/s took \(slow) ms")
            #expect(try await fixture.toxicNames().isEmpty)
            let fast = try await transfer()
            #expect(fast < 200, "10 kB without the toxic took \(fast) ms")
        }
    }

    @Test
    func anyToxicCanBeScopedWithItsOwnOrAGeneratedName() async throws {
        try await Self.withFixture { fixture in
            let named = ToxicDefinition(
                name: "cut",
                type: "reset_peer",
                stream: .upstream,
                attributes: [("timeout", 0)]
            )
            try await fixture.proxy.withToxic(named) { toxic in
                #expect(toxic.name == "cut" && toxic.type == .resetPeer)
                #expect(try await fixture.toxicNames() == ["cut"])
                let unnamed = ToxicDefinition(type: "slicer", stream: .downstream, attributes: [("average_size", 1)])
                try await fixture.proxy.withToxic(unnamed) { inner async throws in
                    #expect(inner.name.hasPrefix("scoped_slicer_downstream_"))
                    #expect(try await fixture.toxicNames() == ["cut", inner.name].sorted())
                }
                #expect(try await fixture.toxicNames() == ["cut"])
            }
            #expect(try await fixture.toxicNames().isEmpty)
            // A name that exists already is the server's 409, and nothing is added or removed.
            _ = try await fixture.client.addToxic(named, toProxy: "svc")
            let conflict = await #expect(throws: ToxiproxyClientError.self) {
                try await fixture.proxy.withToxic(named) { _ in Issue.record("the body must not run") }
            }
            #expect(conflict?.isConflict == true)
            #expect(try await fixture.toxicNames() == ["cut"])
        }
    }

    @Test
    func aToxicRemovedByTheBodyIsNotAnError() async throws {
        try await Self.withFixture { fixture in
            try await fixture.proxy.withLatency(.milliseconds(10)) {
                try await fixture.client.reset()
            }
            #expect(try await fixture.toxicNames().isEmpty)
        }
    }
}
