import NIOCore
import NIOPosix
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// The timeout toxic: `0` holds the connection forever, `> 0` is an idle timer reset by traffic, and
/// removing it closes the connections it was attached to.
@Suite(.serialized)
struct TimeoutToxicTests {
    @Test(.timeLimit(.minutes(1)))
    func zeroHoldsTheConnectionAndDropsDataUntilRemoved() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "hold", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "hold",
                    #"{"type":"timeout","stream":"upstream","attributes":{"timeout":0}}"#
                )
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(string: "dropped"))
                    // Watching a window is the assertion here: nothing may come back and nothing may close.
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(watcher.received.isEmpty)
                    #expect(watcher.closedAt == nil)
                    let removed = ContinuousClock.now
                    try await server.removeToxic(proxy: "hold", "timeout_upstream")
                    let closed = await watcher.waitForClose()
                    #expect(closed != nil, "removing the toxic must close the connection")
                    if let closed { #expect(closed - removed < .seconds(1)) }
                    // Dropped data is never replayed.
                    #expect(watcher.received.isEmpty)
                    await watcher.stop()
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func positiveTimeoutClosesAnIdleConnection() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "idle", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "idle",
                    #"{"type":"timeout","stream":"upstream","attributes":{"timeout":300}}"#
                )
                let start = ContinuousClock.now
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, _ in
                    let watcher = ConnectionWatcher(inbound)
                    let closed = try #require(await watcher.waitForClose())
                    let elapsed = closed - start
                    #expect(elapsed >= .milliseconds(280) && elapsed < .seconds(1), "closed after \(elapsed)")
                    await watcher.stop()
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func trafficResetsTheIdleTimer() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "busy", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "busy",
                    #"{"type":"timeout","stream":"upstream","attributes":{"timeout":400}}"#
                )
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    // Eight sends 100 ms apart span 800 ms, twice the timeout: only the resets keep it open.
                    for _ in 0..<8 {
                        try await outbound.write(ByteBuffer(string: "x"))
                        try await Task.sleep(for: .milliseconds(100))
                        #expect(watcher.closedAt == nil, "the connection must stay open while traffic flows")
                    }
                    try await outbound.write(ByteBuffer(string: "x"))
                    let lastSend = ContinuousClock.now
                    let closed = try #require(await watcher.waitForClose())
                    let elapsed = closed - lastSend
                    #expect(
                        elapsed >= .milliseconds(350) && elapsed < .seconds(1),
                        "closed \(elapsed) after the last send"
                    )
                    #expect(watcher.received.isEmpty, "a timeout toxic drops the data")
                    await watcher.stop()
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func zeroToxicityNeverRunsTheToxic() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "harmless", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "harmless",
                    #"{"type":"timeout","stream":"upstream","toxicity":0,"attributes":{"timeout":0}}"#
                )
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(string: "through"))
                    #expect(await watcher.waitForBytes(7))
                    #expect(watcher.received == Array("through".utf8))
                    await watcher.stop()
                }
            }
        }
    }
}
