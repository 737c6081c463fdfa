import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Reliability {
    /// SIGTERM while the server is busy: it exits 0 within 2 s, and no listener of it survives.
    @Suite
    struct Shutdown {
        static let streams = 100
        /// The issue's bound, from the signal to the process's exit.
        static let exitBound = Duration.seconds(2)

        enum AdminLoad: String, CaseIterable, Sendable, CustomStringConvertible {
            /// Admin calls in a loop, and an idle kept-alive admin connection.
            case busy = "admin calls in a loop and an idle kept-alive admin connection"
            /// The same, plus a request whose head has only half arrived (its read timeout is 15 s away).
            case stalledRequest = "the same plus an admin request stalled halfway through its head"

            var description: String { self.rawValue }
        }

        @Test(.timeLimit(.minutes(3)), arguments: AdminLoad.allCases)
        func sigtermUnderLoadExitsZeroWithinTwoSecondsAndFreesItsPorts(adminLoad: AdminLoad) async throws {
            try await withEchoServer { echoPort in
                try await ServerUnderTest.with { server in
                    let adminPort = server.adminPort
                    let proxyPort = try await server.createProxy("load", upstreamPort: echoPort)
                    let toxic = try await RawHTTP.call(
                        port: adminPort,
                        "POST",
                        "/proxies/load/toxics",
                        body: #"{"name":"held","type":"latency","attributes":{"latency":20,"jitter":5}}"#
                    )
                    try #require(toxic.status == 200, "\(toxic)")

                    // 100 connections streaming as fast as they can, each checking that its echo is exactly
                    // a prefix of what it sent, until the server goes away.
                    let progress = NIOLockedValueBox([Int](repeating: 0, count: Self.streams))
                    let giveUp = ContinuousClock.now + .seconds(60)
                    async let streams = withTaskGroup(of: StreamEnd.self, returning: [StreamEnd].self) { group in
                        for index in 0..<Self.streams {
                            group.addTask {
                                await Self.stream(port: proxyPort, seed: UInt64(index) &+ 0x5157, until: giveUp) {
                                    verified in progress.withLockedValue { $0[index] = verified }
                                }
                            }
                        }
                        return await group.reduce(into: []) { $0.append($1) }
                    }
                    let flowing = await eventually(timeout: .seconds(30)) {
                        progress.withLockedValue { $0.allSatisfy { $0 >= 64 * 1024 } }
                    }
                    let flowingCount = progress.withLockedValue { $0.filter { $0 >= 64 * 1024 }.count }
                    #expect(flowing, "only \(flowingCount) of \(Self.streams) streams were flowing")

                    // Admin load: a loop of calls, an idle kept-alive connection, maybe a stalled request.
                    let idle = try BlockingSocket.connect(port: adminPort)
                    defer { close(idle) }
                    try BlockingSocket.send(
                        idle,
                        Array("GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: x\r\n\r\n".utf8)
                    )
                    let answer = await onThread { BlockingSocket.receive(idle) }
                    #expect(
                        String(decoding: answer.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"),
                        "no answer on the kept-alive connection: \(answer)"
                    )
                    var stalled: Int32?
                    if adminLoad == .stalledRequest {
                        let descriptor = try BlockingSocket.connect(port: adminPort)
                        try BlockingSocket.send(
                            descriptor,
                            Array("POST /proxies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le".utf8)
                        )
                        stalled = descriptor
                    }
                    defer { if let stalled { close(stalled) } }
                    let adminCalls = NIOLockedValueBox(0)
                    let adminLoop = Task {
                        await onThread {
                            // On a thread of its own (blocking sockets): each call's time is the server's.
                            var slowest = Duration.zero
                            while true {
                                let calls = adminCalls.withLockedValue { $0 }
                                let reply = try? RawHTTP.blockingCall(
                                    port: adminPort,
                                    "PATCH",
                                    "/proxies/load/toxics/held",
                                    body: #"{"attributes":{"latency":\#(10 + calls % 20)}}"#,
                                    timeout: .seconds(30)
                                )
                                guard let reply, reply.status == 200 else { return (calls, slowest) }
                                slowest = max(slowest, reply.elapsed)
                                adminCalls.withLockedValue { $0 += 1 }
                            }
                        }
                    }
                    let adminBusy = await eventually(timeout: .seconds(10)) { adminCalls.withLockedValue { $0 >= 5 } }
                    #expect(adminBusy, "the admin loop made \(adminCalls.withLockedValue { $0 }) calls")

                    let signalled = ContinuousClock.now
                    server.product.send(signal: SIGTERM)
                    let exited = try await server.product.waitForExit(within: .seconds(20))
                    let exitTime = ContinuousClock.now - signalled
                    let (adminCallCount, slowestAdminCall) = await adminLoop.value
                    let ends = await streams
                    // The kept-alive connection was closed by the exit (end of stream or reset).
                    let idleEnd = await onThread { BlockingSocket.receive(idle) }

                    let proxyFree = await Loopback.canBind(port: proxyPort)
                    let adminFree = await Loopback.canBind(port: adminPort)
                    let proxyAnswers = await Loopback.canConnect(port: proxyPort)
                    let adminAnswers = await Loopback.canConnect(port: adminPort)
                    let verified = ends.reduce(0) { $0 + $1.verified }
                    report(
                        "shutdown",
                        "\(adminLoad): SIGTERM with \(flowingCount) streams flowing "
                            + "(\(mebibytes(verified)) echoed and verified), \(adminCallCount) admin calls before it (slowest \(format(slowestAdminCall.milliseconds))); "
                            + "exit after \(format(exitTime.milliseconds)), "
                            + (exited
                                ? "\(server.product.terminationReason == .exit ? "status" : "signal") \(server.product.exitStatus)"
                                : "still running")
                            + "; proxy port free: \(proxyFree), admin port free: \(adminFree)"
                    )

                    #expect(exited, "still running \(exitTime) after SIGTERM")
                    #expect(
                        exitTime <= Self.exitBound,
                        "exit took \(exitTime) after SIGTERM; the server's log ends: \(server.product.stdout.suffix(3000))"
                    )
                    #expect(server.product.terminationReason == .exit, "ended by signal \(server.product.exitStatus)")
                    #expect(
                        server.product.exitStatus == 0,
                        "exit status \(server.product.exitStatus): \(server.product.stderr)"
                    )
                    #expect(
                        idleEnd.bytes.isEmpty && (idleEnd.error == nil || idleEnd.error == ECONNRESET),
                        "the kept-alive admin connection is still open after the exit: \(idleEnd)"
                    )
                    for end in ends {
                        if let mismatch = end.mismatch {
                            Issue.record("stream \(end.seed): byte \(mismatch) differs from what was sent")
                        }
                        if let problem = end.problem { Issue.record("stream \(end.seed): \(problem)") }
                    }
                    #expect(proxyFree, "the proxy port \(proxyPort) cannot be bound after the exit")
                    #expect(adminFree, "the admin port \(adminPort) cannot be bound after the exit")
                    #expect(!proxyAnswers && !adminAnswers, "something still listens after the exit")
                }
            }
        }

        struct StreamEnd: Sendable {
            var seed: UInt64
            var verified = 0
            var mismatch: Int?
            var problem: String?
        }

        /// Streams seeded words (1 to 512 words every 0 to 40 ms: up to about 200 KiB/s, 20 MiB/s for 100
        /// streams, as much as two shared cores carry) and verifies the echo, until the connection ends (the
        /// server's exit) or `giveUp`.
        static func stream(
            port: Int,
            seed: UInt64,
            until giveUp: ContinuousClock.Instant,
            onProgress: @escaping @Sendable (Int) -> Void
        ) async -> StreamEnd {
            var end = StreamEnd(seed: seed)
            do {
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let ended = NIOLockedValueBox(false)
                    try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                        group.addTask {
                            var verifier = WordVerifier(seed: seed)
                            do {
                                for try await buffer in inbound {
                                    guard verifier.consume(buffer) else { break }
                                    onProgress(verifier.verified)
                                }
                            } catch {
                                // The server's exit resets the connection.
                            }
                            _ = verifier.finish()
                            ended.withLockedValue { $0 = true }
                            return (verifier.verified, verifier.mismatchOffset)
                        }
                        var words = WordStream(seed: seed)
                        var shape = SplitMix64(seed: ~seed)
                        while ContinuousClock.now < giveUp, !ended.withLockedValue({ $0 }) {
                            do {
                                try await outbound.write(
                                    ByteBuffer(bytes: words.next(words: 1 + Int(shape.next() % 512)))
                                )
                            } catch {
                                break
                            }
                            try? await Task.sleep(for: .milliseconds(Double(shape.next() % 40)))
                        }
                        let closed = await eventually(timeout: .seconds(10)) { ended.withLockedValue { $0 } }
                        group.cancelAll()
                        (end.verified, end.mismatch) = try await group.next()!
                        if !closed { end.problem = "still open when the test gave up" }
                    }
                }
            } catch {
                end.problem = "\(error)"
            }
            return end
        }
    }
}
