import NIOCore
import NIOPosix
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// The bounds that keep the server up under abuse: connections per proxy, and how long an admin request may
/// take to arrive.
@Suite(.serialized)
struct ServerLimitsTests {
    @Test(.timeLimit(.minutes(1)))
    func clientsAboveTheConnectionLimitAreClosedAtOnce() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer(maximumConnectionsPerProxy: 3) { server in
                let port = try await server.createProxy(name: "capped", upstreamPort: echoPort)
                let held = try await (0..<3).asyncMap { _ in try await TCPTestClient.connect(port: port) }
                #expect(try await eventually { try await server.registry.liveConnectionCount(ofProxy: "capped") == 3 })

                let refused = try await TCPTestClient.connect(port: port)
                try await refused.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try? await outbound.write(ByteBuffer(string: "over"))
                    #expect(await watcher.waitForClose() != nil, "the fourth client must be closed")
                    #expect(watcher.received.isEmpty)
                    await watcher.stop()
                }
                // Freeing a place lets the next client in.
                try await held[0].executeThenClose { _, _ in }
                #expect(try await eventually { try await server.registry.liveConnectionCount(ofProxy: "capped") == 2 })
                let (sent, received) = try await DataIntegrityTests.echo(port: port, byteCount: 1024, seed: 1)
                #expect(sent == received)
                for connection in held.dropFirst() {
                    try await connection.executeThenClose { _, _ in }
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func anAdminRequestThatTricklesIsCutOffAtTheReadTimeout() async throws {
        try await withTestServer(requestReadTimeout: .milliseconds(300)) { server in
            let connection = try await TCPTestClient.connect(port: server.adminPort)
            try await connection.executeThenClose { inbound, outbound in
                let watcher = ConnectionWatcher(inbound)
                let start = ContinuousClock.now
                try await outbound.write(
                    ByteBuffer(string: "POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
                )
                // One more byte of body every 100 ms would keep an idle timer alive forever.
                for _ in 0..<20 where watcher.closedAt == nil {
                    try? await outbound.write(ByteBuffer(string: " "))
                    try await Task.sleep(for: .milliseconds(100))
                }
                let closed = try #require(await watcher.waitForClose())
                #expect(closed - start < .seconds(1), "closed after \(closed - start)")
                await watcher.stop()
            }
            // The server itself is unaffected.
            #expect(try await server.admin.get("/version").status == 200)
        }
    }
}

extension ServerLimitsTests {
    /// A body over the limit gets its 413, then the connection closes at once: the rest of the body is never
    /// read, so the connection could carry no other request, and it used to sit until the read timeout.
    @Test(.timeLimit(.minutes(1)))
    func anOversizedBodyGets413AndItsConnectionClosesAtOnce() async throws {
        try await withTestServer { server in
            let connection = try await TCPTestClient.connect(port: server.adminPort)
            try await connection.executeThenClose { inbound, outbound in
                let watcher = ConnectionWatcher(inbound)
                let size = 2 * 1024 * 1024
                let start = ContinuousClock.now
                try await outbound.write(
                    ByteBuffer(string: "POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n")
                )
                // The server may stop reading (and the write then fail) once it has answered.
                try? await outbound.write(ByteBuffer(repeating: UInt8(ascii: " "), count: size))
                let closed = try #require(await watcher.waitForClose(timeout: .seconds(10)))
                let answer = String(decoding: watcher.received, as: UTF8.self)
                #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
                #expect(answer.contains(#""status":413"#), "\(answer)")
                #expect(closed - start < .seconds(2), "closed after \(closed - start)")
                await watcher.stop()
            }
            #expect(try await server.admin.get("/version").status == 200)
        }
    }
}

extension Sequence {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self {
            results.append(try await transform(element))
        }
        return results
    }
}
