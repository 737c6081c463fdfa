import NIOCore
import NIOPosix
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// Bytes through the proxy arrive complete, unaltered and in order, with many connections at once and
/// while toxics change under live traffic.
@Suite(.serialized)
struct DataIntegrityTests {
    /// An IP address is dialled directly, a host name through the resolver: both carry the bytes.
    @Test(.timeLimit(.minutes(1)), arguments: ["127.0.0.1", "localhost"])
    func upstreamsGivenByAddressOrByNameCarryData(upstreamHost: String) async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(
                    name: "dial",
                    upstreamHost: upstreamHost,
                    upstreamPort: echoPort
                )
                for seed in 0..<3 {
                    let (sent, received) = try await Self.echo(port: port, byteCount: 256 * 1024, seed: UInt64(seed))
                    #expect(sent == received, "connection \(seed) through \(upstreamHost): echoed bytes differ")
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func twoHundredConcurrentConnectionsEchoOneMebibyteEach() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "bulk", upstreamPort: echoPort)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            let (sent, received) = try await Self.echo(
                                port: port,
                                byteCount: 1 << 20,
                                seed: UInt64(index)
                            )
                            #expect(sent == received, "connection \(index): SHA-256 of echoed bytes differs")
                        }
                    }
                    try await group.waitForAll()
                }
                // Every link is torn down once its client closes.
                #expect(try await eventually { try await server.registry.liveConnectionCount(ofProxy: "bulk") == 0 })
            }
        }
    }

    /// The reference's `TestNoDataDropped`: 65,535 sequenced 2-byte writes while a latency toxic is added and
    /// removed in a tight loop, on both directions.
    @Test(.timeLimit(.minutes(2)))
    func noDataDroppedWhileTogglingLatencyToxics() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "seq", upstreamPort: echoPort)
                let connection = try await TCPTestClient.connect(port: port)
                let count = 65535
                let toggled = SharedCounter()
                let toggles = try await connection.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Int?.self) { group in
                        group.addTask {
                            for sequence in 0..<count {
                                // The last quarter waits for three toggle rounds, so that the toxics change
                                // under traffic however fast the stream and however slow the admin calls.
                                if sequence == count * 3 / 4 {
                                    _ = await eventually(timeout: .seconds(30)) { toggled.count >= 3 }
                                }
                                var buffer = ByteBuffer()
                                buffer.writeInteger(UInt16(sequence))
                                try await outbound.write(buffer)
                            }
                            return nil
                        }
                        group.addTask {
                            var expected = 0
                            var carry = ByteBuffer()
                            for try await var buffer in inbound {
                                carry.writeBuffer(&buffer)
                                while let value = carry.readInteger(as: UInt16.self) {
                                    guard Int(value) == expected else {
                                        throw TestFailure("expected sequence \(expected), got \(value)")
                                    }
                                    expected += 1
                                }
                                if expected == count { break }
                            }
                            guard expected == count else { throw TestFailure("stream ended at \(expected)") }
                            return nil
                        }
                        group.addTask {
                            var toggles = 0
                            while !Task.isCancelled {
                                do {
                                    try await server.addToxic(
                                        proxy: "seq",
                                        #"{"name":"up","type":"latency","stream":"upstream","attributes":{"latency":1}}"#
                                    )
                                    try await server.addToxic(
                                        proxy: "seq",
                                        #"{"name":"down","type":"latency","attributes":{"latency":1,"jitter":1}}"#
                                    )
                                    try await server.removeToxic(proxy: "seq", "up")
                                    try await server.removeToxic(proxy: "seq", "down")
                                } catch {
                                    if Task.isCancelled { break }
                                    throw error
                                }
                                toggles += 1
                                toggled.increment()
                            }
                            return toggles
                        }
                        var toggles = 0
                        var finished = 0
                        while let result = try await group.next() {
                            if let result {
                                toggles = result
                            } else {
                                finished += 1
                                if finished == 2 { group.cancelAll() }
                            }
                        }
                        return toggles
                    }
                }
                // The toxics must really have changed under traffic for this test to mean anything.
                #expect(toggles >= 3)
            }
        }
    }

    /// Sends `byteCount` seeded random bytes and reads the echo concurrently; returns both SHA-256 digests.
    static func echo(port: Int, byteCount: Int, seed: UInt64) async throws -> (sent: String, received: String) {
        let exchange = try await EchoExchange.run(port: port, byteCount: byteCount, seed: seed)
        guard exchange.receivedCount == byteCount else {
            throw TestFailure("received \(exchange.receivedCount) of \(byteCount) bytes")
        }
        return (exchange.sentDigest, exchange.receivedDigest)
    }
}
