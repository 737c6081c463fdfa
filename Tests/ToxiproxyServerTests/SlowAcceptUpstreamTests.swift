import NIOCore
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// An upstream that accepts late (its accept queue full, its accept loop behind) must not cost a client any
/// byte: the proxy's dial then completes only after the kernel's SYN retransmission, or completes on a SYN
/// cookie that the upstream's kernel can still reject, while the clients are already sending.
@Suite(.serialized)
struct SlowAcceptUpstreamTests {
    static let clients = 32
    static let bytesPerClient = 256 * 1024

    /// Issue 8's set-up made deterministic: an echo upstream with backlog 3 (an accept queue of 4) whose
    /// accept loop is held until every client is sending, so all but the first dials complete late; every echo
    /// must come back whole. Half-closing clients hand the proxy their whole request and its end before
    /// there is an upstream to write to (NIO reads a socket to its end when the kernel reports the FIN).
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func clientsSendingBeforeTheUpstreamAcceptsLoseNothing(halfClose: Bool) async throws {
        try await withEchoServer(backlog: 3, accepting: .held) { echoPort, gate in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "late", upstreamPort: echoPort)
                let sending = SharedCounter()
                let started = ContinuousClock.now
                try await withThrowingTaskGroup(of: (Int, EchoExchange, Double).self) { group in
                    for index in 0..<Self.clients {
                        group.addTask {
                            let exchange = try await EchoExchange.run(
                                port: port,
                                byteCount: Self.bytesPerClient,
                                seed: UInt64(index),
                                halfClose: halfClose,
                                onFirstWrite: { sending.increment() }
                            )
                            return (index, exchange, milliseconds(since: started))
                        }
                    }
                    let allSending = await eventually(timeout: .seconds(10)) { sending.count == Self.clients }
                    #expect(allSending, "only \(sending.count) of \(Self.clients) clients started sending")
                    try await gate.open()
                    var slowest = 0.0
                    for try await (index, exchange, elapsed) in group {
                        slowest = max(slowest, elapsed)
                        #expect(exchange.isIntact, "client \(index): \(exchange.summary)")
                    }
                    // The set-up really made dials late: the kernel retransmits an unanswered SYN after 1 s.
                    #expect(slowest >= 900, "the slowest client finished after \(slowest) ms")
                }
            }
        }
    }
}
