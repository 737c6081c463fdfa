import NIOCore
import NIOPosix
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// A client that shuts down its write side (`shutdown(SHUT_WR)`) after its request, as `nc -N`, BusyBox
/// `wget`, Node's `socket.end(data)` and EOF-delimited protocols do, still gets the whole answer: the end of
/// stream travels through its direction's toxics behind the data and becomes a half-close of the upstream.
@Suite(.serialized)
struct HalfCloseTests {
    @Test(.timeLimit(.minutes(1)), arguments: [10, 100_000, 1_000_000])
    func aHalfClosedClientGetsItsWholeEchoThenTheEnd(byteCount: Int) async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "half", upstreamPort: echoPort)
                let exchange = try await EchoExchange.run(port: port, byteCount: byteCount, seed: 8, halfClose: true)
                #expect(exchange.isIntact, "\(exchange.summary)")
                #expect(exchange.closeAfterHalfClose != nil, "no end of stream after the half-close")
                // Both directions ended, so the link is gone.
                #expect(try await eventually { try await server.registry.liveConnectionCount(ofProxy: "half") == 0 })
            }
        }
    }

    /// `slow_close` holds the end of stream of its own direction: upstream, the upstream sees the client's FIN
    /// late and so ends its answer late; downstream, the client sees the upstream's FIN late.
    @Test(.timeLimit(.minutes(1)), arguments: ["upstream", "downstream"])
    func slowCloseDelaysTheEndOfItsOwnStream(stream: String) async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "linger", upstreamPort: echoPort)
                let baseline = try await EchoExchange.run(port: port, byteCount: 1, seed: 1, halfClose: true)
                try await server.addToxic(
                    proxy: "linger",
                    #"{"type":"slow_close","stream":"\#(stream)","attributes":{"delay":500}}"#
                )
                let delayed = try await EchoExchange.run(port: port, byteCount: 1, seed: 2, halfClose: true)
                #expect(baseline.isIntact && delayed.isIntact, "\(baseline.summary); \(delayed.summary)")
                let before = try #require(baseline.closeAfterHalfClose)
                let after = try #require(delayed.closeAfterHalfClose)
                #expect(abs(after - before - 500) <= 50, "end after \(after) ms with the toxic, \(before) ms without")
            }
        }
    }

    /// An upstream that goes on writing for 2 s after the client half-closed delivers every byte of it.
    @Test(.timeLimit(.minutes(1)))
    func anUpstreamThatKeepsWritingAfterTheHalfCloseIsHeardToTheEnd() async throws {
        let chunks = 20
        let chunkSize = 64 * 1024
        let interval = TimeAmount.milliseconds(100)
        var generator = SplitMix64(seed: 20)
        var hash = SHA256()
        let payload = (0..<chunks).map { _ in generator.bytes(chunkSize) }
        for chunk in payload { hash.update(chunk) }
        let expected = hash.finalize()
        let upstream = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    for (index, chunk) in payload.enumerated() {
                        channel.eventLoop.scheduleTask(in: interval * Int64(index)) {
                            channel.writeAndFlush(ByteBuffer(bytes: chunk), promise: nil)
                            if index == chunks - 1 { channel.close(mode: .output, promise: nil) }
                        }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { upstream.close(promise: nil) }
        try await withTestServer { server in
            let port = try await server.createProxy(name: "talker", upstreamPort: upstream.localAddress!.port!)
            let connection = try await TCPTestClient.connect(port: port, halfClosable: true)
            let start = ContinuousClock.now
            let (received, digest) = try await connection.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "GET /stream\r\n"))
                outbound.finish()
                var hash = SHA256()
                var received = 0
                for try await buffer in inbound {
                    buffer.withUnsafeReadableBytes { hash.update($0) }
                    received += buffer.readableBytes
                }
                return (received, hash.finalize())
            }
            #expect(received == chunks * chunkSize, "received \(received) of \(chunks * chunkSize) bytes")
            #expect(digest == expected, "the bytes differ from what the upstream sent")
            #expect(ContinuousClock.now - start >= .milliseconds(1_850), "ended after \(ContinuousClock.now - start)")
        }
    }

    /// Half-close under every toxic that keeps the data: every byte arrives, in order, then the end.
    @Test(
        .timeLimit(.minutes(1)),
        arguments: [
            #""type":"latency","attributes":{"latency":50,"jitter":10}"#,
            #""type":"bandwidth","attributes":{"rate":20000}"#,
            #""type":"slicer","attributes":{"average_size":1024,"size_variation":512,"delay":0}"#,
            #""type":"noop""#,
        ]
    )
    func everyDataPreservingToxicKeepsTheBytesOfAHalfClosedConnection(toxic: String) async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "kept", upstreamPort: echoPort)
                for stream in ["upstream", "downstream"] {
                    try await server.addToxic(proxy: "kept", #"{"name":"\#(stream)","stream":"\#(stream)",\#(toxic)}"#)
                }
                let exchange = try await EchoExchange.run(port: port, byteCount: 512 * 1024, seed: 3, halfClose: true)
                #expect(exchange.isIntact, "\(toxic): \(exchange.summary)")
                #expect(exchange.closeAfterHalfClose != nil, "\(toxic): no end of stream")
            }
        }
    }
}
