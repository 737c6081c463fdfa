import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import ToxiproxyModel
import ToxiproxyServer
import ToxiproxyTestSupport

/// The admin API never waits on a slow or stalled connection (a known failure of the reference, whose
/// toxic changes block on links stuck in a write).
@Suite(.serialized)
struct AdminResponsivenessTests {
    /// 100 connections whose data is held by a toxic, and 20 more whose clients flood and never read, so
    /// their path backs up to TCP flow control; admin calls, including toxic changes that reach every one of
    /// those connections, answer within a second.
    @Test(.timeLimit(.minutes(2)))
    func adminAnswersWithinOneSecondWhileConnectionsAreStalled() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "stall", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "stall",
                    #"{"name":"hold","type":"latency","attributes":{"latency":600000}}"#
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let (ready, readySignal) = AsyncStream.makeStream(of: Void.self)
                    for index in 0..<120 {
                        group.addTask {
                            let connection = try await TCPTestClient.connect(port: port)
                            try await connection.executeThenClose { inbound, outbound in
                                readySignal.yield()
                                do {
                                    // Half the clients send a little (held by the toxic); half flood and never
                                    // read, until their writes block on TCP flow control.
                                    let size = index < 100 ? 1024 : 2 * 1024 * 1024
                                    var written = 0
                                    repeat {
                                        try await outbound.write(
                                            ByteBuffer(repeating: UInt8(index & 0xff), count: 1024)
                                        )
                                        written += 1024
                                    } while written < size
                                    // Held by the toxic until the proxy is deleted, which ends the stream.
                                    for try await _ in inbound {}
                                } catch {
                                    // The proxy is deleted at the end of the test, which closes these sockets.
                                }
                            }
                        }
                    }
                    var iterator = ready.makeAsyncIterator()
                    for _ in 0..<120 { await iterator.next() }
                    let accepted = try await eventually(timeout: .seconds(20)) {
                        try await server.registry.liveConnectionCount(ofProxy: "stall") == 120
                    }
                    let live = try await server.registry.liveConnectionCount(ofProxy: "stall")
                    #expect(accepted, "\(live) live connections")

                    var timings: [Double] = []
                    for round in 0..<5 {
                        var start = ContinuousClock.now
                        #expect(try await server.admin.get("/proxies").status == 200)
                        timings.append(milliseconds(since: start))
                        start = .now
                        try await server.addToxic(
                            proxy: "stall",
                            #"{"name":"extra\#(round)","type":"latency","stream":"upstream","attributes":{"latency":5}}"#
                        )
                        timings.append(milliseconds(since: start))
                        start = .now
                        #expect(
                            try await server.admin.patch(
                                "/proxies/stall/toxics/extra\(round)",
                                #"{"attributes":{"latency":7}}"#
                            ).status == 200
                        )
                        timings.append(milliseconds(since: start))
                        start = .now
                        try await server.removeToxic(proxy: "stall", "extra\(round)")
                        timings.append(milliseconds(since: start))
                    }
                    #expect(timings.max()! < 1000, "slowest admin call \(timings.max()!) ms: \(timings)")
                    #expect(try await server.admin.delete("/proxies/stall").status == 204)
                    try await group.waitForAll()
                }
            }
        }
    }

    /// A toxic change returns while the proxy's only event loop is blocked (it does not wait for the loops),
    /// and the bytes sent after it returned still go through the new toxic: the link applies it before it
    /// handles them.
    @Test(.timeLimit(.minutes(1)))
    func toxicChangesDoNotWaitForABusyEventLoopYetApplyToTheNextBytes() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        try await withEchoServer { echoPort in
            var logger = Logger(label: "busy-loop-test")
            logger.logLevel = .critical
            let registry = ProxyRegistry(group: group, logger: logger)
            let proxy = try await registry.createProxy(
                ProxyRequest(name: "busy", listen: "127.0.0.1:0", upstream: "127.0.0.1:\(echoPort)")
            )
            let port = try #require(proxy.listen.split(separator: ":").last.flatMap { Int($0) })
            let connection = try await TCPTestClient.connect(port: port)
            try await connection.executeThenClose { inbound, outbound in
                var received = inbound.makeAsyncIterator()
                try await outbound.write(ByteBuffer(string: "a"))
                _ = try await received.next()

                // Block the loop until the change has returned, or for at most 10 s.
                let gate = DispatchSemaphore(value: 0)
                let (entered, enteredSignal) = AsyncStream.makeStream(of: Void.self)
                let blocked = group.next().submit {
                    enteredSignal.yield()
                    return gate.wait(timeout: .now() + 10)
                }
                var enteredIterator = entered.makeAsyncIterator()
                await enteredIterator.next()
                let attributes = try JSONParser.parseFirstValue(Array(#"{"latency":300}"#.utf8))
                _ = try await registry.addToxic(
                    ToxicRequest(name: "slow", type: "latency", stream: "downstream", attributes: attributes),
                    toProxy: "busy"
                )
                gate.signal()
                #expect(try await blocked.get() == .success, "the toxic change waited for the blocked event loop")

                let start = ContinuousClock.now
                try await outbound.write(ByteBuffer(string: "b"))
                let echo = try await received.next()
                let elapsed = ContinuousClock.now - start
                #expect(echo.map { String(buffer: $0) } == "b")
                #expect(elapsed >= .milliseconds(295), "the byte sent after the change took \(elapsed)")
            }
            try await registry.deleteProxy(named: "busy")
        }
        try await group.shutdownGracefully()
    }
}
