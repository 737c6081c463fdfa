import NIOCore
import NIOPosix
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// bandwidth, slow_close, reset_peer, slicer and limit_data on real sockets.
@Suite(.serialized)
struct MoreToxicsTests {
    /// 50,000 bytes at 100 KB/s: about half a second (the reference measured 0.502 s).
    @Test(.timeLimit(.minutes(1)))
    func bandwidthLimitsTheRate() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "thin", upstreamPort: echoPort)
                try await server.addToxic(proxy: "thin", #"{"type":"bandwidth","attributes":{"rate":100}}"#)
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    let start = ContinuousClock.now
                    try await outbound.write(ByteBuffer(repeating: 1, count: 50_000))
                    #expect(await watcher.waitForBytes(50_000, timeout: .seconds(10)))
                    let elapsed = ContinuousClock.now - start
                    #expect(elapsed >= .milliseconds(480) && elapsed < .milliseconds(900), "took \(elapsed)")
                    await watcher.stop()
                }
            }
        }
    }

    /// Rate 0 stops the direction completely; removing the toxic releases what it held.
    @Test(.timeLimit(.minutes(1)))
    func bandwidthZeroPartitionsUntilRemoved() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "cut", upstreamPort: echoPort)
                try await server.addToxic(proxy: "cut", #"{"type":"bandwidth","attributes":{"rate":0}}"#)
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(string: "held"))
                    #expect(try await eventually { try await server.registry.heldByteCount(ofProxy: "cut") == 4 })
                    #expect(watcher.received.isEmpty)
                    try await server.removeToxic(proxy: "cut", "bandwidth_downstream")
                    #expect(await watcher.waitForBytes(4))
                    #expect(watcher.received == Array("held".utf8))
                    await watcher.stop()
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func slowCloseDelaysTheClose() async throws {
        try await withTestServer { server in
            // An upstream that closes as soon as a client connects.
            let closer = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { $0.close() }
                .bind(host: "127.0.0.1", port: 0).get()
            defer { closer.close(promise: nil) }
            let port = try await server.createProxy(name: "lingering", upstreamPort: closer.localAddress!.port!)
            try await server.addToxic(proxy: "lingering", #"{"type":"slow_close","attributes":{"delay":400}}"#)
            let start = ContinuousClock.now
            let connection = try await TCPTestClient.connect(port: port)
            try await connection.executeThenClose { inbound, _ in
                let watcher = ConnectionWatcher(inbound)
                let closed = try #require(await watcher.waitForClose())
                #expect(closed - start >= .milliseconds(390) && closed - start < .seconds(2), "\(closed - start)")
                await watcher.stop()
            }
        }
    }

    /// A connection accepted while reset_peer is in place is reset (RST), the trigger chunk dropped.
    @Test(.timeLimit(.minutes(1)))
    func resetPeerResetsAfterTheFirstChunk() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "rst", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "rst",
                    #"{"type":"reset_peer","stream":"upstream","attributes":{"timeout":200}}"#
                )
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    var iterator = inbound.makeAsyncIterator()
                    let start = ContinuousClock.now
                    try await outbound.write(ByteBuffer(string: "trigger"))
                    do {
                        let next = try await iterator.next()
                        Issue.record("expected a reset, got \(next.map { String(buffer: $0) } ?? "a clean close")")
                    } catch let error as IOError {
                        #expect(error.errnoCode == ECONNRESET, "\(error)")
                    }
                    let elapsed = ContinuousClock.now - start
                    #expect(elapsed >= .milliseconds(190) && elapsed < .seconds(2), "\(elapsed)")
                }
            }
        }
    }

    /// The reference's example: limit 15 delivers `0123456789` then `ABCDE`, then the connection closes.
    @Test(.timeLimit(.minutes(1)))
    func limitDataCutsTheStreamAndCloses() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "cap", upstreamPort: echoPort)
                try await server.addToxic(proxy: "cap", #"{"type":"limit_data","attributes":{"bytes":15}}"#)
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(string: "0123456789"))
                    #expect(await watcher.waitForBytes(10))
                    try await outbound.write(ByteBuffer(string: "ABCDEFGHIJ"))
                    #expect(await watcher.waitForClose() != nil)
                    #expect(String(decoding: watcher.received, as: UTF8.self) == "0123456789ABCDE")
                    await watcher.stop()
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func slicerDeliversEveryByteInOrderInSmallPieces() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "slices", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "slices",
                    #"{"type":"slicer","attributes":{"average_size":10,"size_variation":4,"delay":2000}}"#
                )
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let message = (0..<200).map { UInt8($0) }
                    let start = ContinuousClock.now
                    try await outbound.write(ByteBuffer(bytes: message))
                    var received: [UInt8] = []
                    var reads = 0
                    for try await buffer in inbound {
                        received += buffer.readableBytesView
                        reads += 1
                        if received.count >= message.count { break }
                    }
                    #expect(received == message)
                    // About 16 pieces 2 ms apart: several reads, and at least ~30 ms in all.
                    #expect(reads > 3, "\(reads) reads")
                    #expect(ContinuousClock.now - start >= .milliseconds(25))
                }
            }
        }
    }

    /// Where the reference crashes (negative rate; a slicer that never stops splitting), the answer is 400.
    @Test(arguments: [
        #"{"type":"bandwidth","attributes":{"rate":-1}}"#,
        #"{"type":"slicer","attributes":{"average_size":0,"size_variation":0}}"#,
    ])
    func valuesThatCrashTheReferenceAreRefused(body: String) async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "safe", upstreamPort: 9)
            let response = try await server.admin.post("/proxies/safe/toxics", body)
            #expect(response.status == 400, "\(response)")
            #expect(try await server.admin.get("/proxies/safe/toxics").body == "[]")
        }
    }
}
