import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Scenarios
import Testing
import ToxiproxyClient
import ToxiproxyModel
import ToxiproxyServer
import ToxiproxyTestSupport

/// Every scenario call of the client against the real server, and `withScenario`'s guarantees.
@Suite
struct ScenarioClientTests {
    struct Marker: Error {}

    /// A server with a proxy `svc` in front of an echo server, and a client of it.
    static func withClient<T: Sendable>(_ body: @Sendable (ToxiproxyClient) async throws -> T) async throws -> T {
        try await withEchoServer { upstream in
            try await withToxiproxyServer { toxiproxy in
                _ = try await toxiproxy.createProxy(name: "svc", upstream: "127.0.0.1:\(upstream)")
                return try await ToxiproxyClient.withClient(baseURL: toxiproxy.adminURL) { client in
                    try await body(client)
                }
            }
        }
    }

    static let slow = Impairment(latency: .init(milliseconds: 100, direction: .downstream))

    /// 300 ms of latency, then 200 ms healthy.
    static let short = Scenario(
        name: "short",
        proxies: ["svc"],
        lease: .heartbeat(grace: .seconds(5)),
        timeline: [
            .phase(PhaseSpec(name: "slow", duration: .milliseconds(300), impairment: slow)),
            .phase(PhaseSpec(name: "healthy", duration: .milliseconds(200))),
        ]
    )

    /// Latency for a minute, with a lease of `grace`.
    static func long(grace: Duration = .seconds(5)) -> Scenario {
        Scenario(
            name: "long",
            proxies: ["svc"],
            lease: .heartbeat(grace: grace),
            timeline: [.phase(PhaseSpec(name: "slow", duration: .seconds(60), impairment: slow))]
        )
    }

    static func toxicNames(_ client: ToxiproxyClient) async throws -> [String] {
        try await client.toxics(ofProxy: "svc").map(\.name)
    }

    // MARK: Calls

    @Test
    func aRunIsFollowedToItsEndAndReattachedAfterAnEvent() async throws {
        try await Self.withClient { client in
            #expect(try await client.supportsScenarios())
            let started = try await client.startScenario(Self.short)
            #expect(started.state == .running && started.name == "short" && started.proxies == ["svc"])
            #expect(started.id.hasPrefix("s") && Int(started.id.dropFirst()) != nil, "id \(started.id)")
            #expect(started.leaseGraceMs == 5000 && started.boundMs == 500)

            var events: [ScenarioEvent] = []
            for try await event in client.scenarioEvents(id: started.id) { events.append(event) }
            #expect(events.map(\.id) == Array(1...max(1, events.count)), "ids count from 1")
            #expect(events.first?.kind == .started)
            #expect(events.last?.kind == .ended && events.last?.endReason == .completed)
            let phases = events.filter { $0.kind == .phase }.compactMap(\.phase)
            #expect(phases.map(\.index) == [0, 1] && phases.map(\.name) == ["slow", "healthy"])
            #expect(phases.map(\.impaired) == [true, false])

            var tail: [ScenarioEvent] = []
            for try await event in client.scenarioEvents(id: started.id, after: 2) { tail.append(event) }
            #expect(tail == Array(events.dropFirst(2)), "re-attaching after id 2 replays the rest")

            let ended = try await client.scenario(id: started.id)
            #expect(ended.state == .ended && ended.endReason == .completed)
            #expect(ended.history.map(\.name) == ["slow", "healthy"] && ended.leaseExpiresInMs == nil)
            #expect(try await Self.toxicNames(client).isEmpty)

            let report = try await client.scenarioReport(id: started.id)
            #expect(report.id == started.id && report.state == .ended && report.endReason == .completed)
            #expect(report.phases.map(\.impaired) == [true, false])
            #expect(report.transitions.map(\.fromPhase) == [0] && report.transitions.map(\.toPhase) == [1])

            // Stopping an ended scenario answers its status unchanged; its lease cannot be renewed.
            let stopped = try await client.stopScenario(id: started.id)
            #expect(stopped.state == .ended && stopped.endReason == .completed)
            let renewal = await ToxiproxyClientTests.error { try await client.heartbeatScenario(id: started.id) }
            #expect(renewal?.status == 409, "\(String(describing: renewal))")
        }
    }

    @Test
    func aRunningScenarioIsListedRenewedReportedAndStopped() async throws {
        try await Self.withClient { client in
            let started = try await client.startScenario(Self.long())
            #expect(try await eventually { try await Self.toxicNames(client) == ["fixed_latency_down"] })

            let listed = try await client.scenarios()
            #expect(listed.map(\.id) == [started.id] && listed.first?.history == [])
            let status = try await client.scenario(id: started.id)
            #expect(status.state == .running && status.currentPhase?.name == "slow")
            #expect(status.nextDueMs != nil && status.history.count == 1)

            let left = try await client.heartbeatScenario(id: started.id)
            #expect(left > .seconds(4) && left <= .seconds(5), "lease renewed to \(left)")

            let report = try await client.scenarioReport(id: started.id)
            #expect(report.state == .running && report.phases.count == 1 && report.phases.first?.endedMs == nil)

            let conflict = await ToxiproxyClientTests.error { _ = try await client.startScenario(Self.long()) }
            #expect(conflict?.status == 409, "a second scenario on the proxy: \(String(describing: conflict))")

            let stopped = try await client.stopScenario(id: started.id)
            #expect(stopped.state == .ended && stopped.endReason == .stopped)
            #expect(try await Self.toxicNames(client).isEmpty, "the stop answers after the restore")
        }
    }

    @Test
    func errorsCarryTheServersStatus() async throws {
        try await Self.withClient { client in
            let unknownProxy = Scenario(
                proxies: ["nope"],
                timeline: [.phase(PhaseSpec(duration: .seconds(1)))]
            )
            let missing = await ToxiproxyClientTests.error { _ = try await client.startScenario(unknownProxy) }
            #expect(missing?.status == 404 && missing?.message.contains("nope") == true)
            let unknownID = await ToxiproxyClientTests.error { _ = try await client.scenario(id: "s999") }
            #expect(unknownID?.status == 404)
            var sawError = false
            do {
                for try await _ in client.scenarioEvents(id: "s999") {}
            } catch let error as ToxiproxyClientError {
                sawError = error.status == 404
            }
            #expect(sawError, "an unknown id's event stream fails with the server's 404")
        }
    }

    // MARK: withScenario

    @Test
    func withScenarioStopsAndRestoresWhenTheBodyThrows() async throws {
        try await Self.withClient { client in
            let id = NIOLockedValueBox("")
            await #expect(throws: Marker.self) {
                try await client.withScenario(Self.long()) { status in
                    id.withLockedValue { $0 = status.id }
                    #expect(try await eventually { try await Self.toxicNames(client) == ["fixed_latency_down"] })
                    throw Marker()
                }
            }
            let status = try await client.scenario(id: id.withLockedValue { $0 })
            #expect(status.state == .ended && status.endReason == .stopped)
            #expect(try await Self.toxicNames(client).isEmpty)
        }
    }

    @Test
    func withScenarioStopsAndRestoresWhenItsTaskIsCancelled() async throws {
        try await Self.withClient { client in
            let (entered, enteredContinuation) = AsyncStream.makeStream(of: String.self)
            let task = Task {
                try await client.withScenario(Self.long()) { status in
                    enteredContinuation.yield(status.id)
                    try await Task.sleep(for: .seconds(60))
                }
            }
            let id = try #require(await entered.first { _ in true })
            task.cancel()
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            let status = try await client.scenario(id: id)
            #expect(status.state == .ended && status.endReason == .stopped)
            #expect(try await Self.toxicNames(client).isEmpty)
        }
    }

    /// With a 1 s grace, the scenario would end with `lease_expired` within about a second of a missed renewal.
    @Test
    func withScenarioKeepsTheLeaseAliveWhileTheBodyRuns() async throws {
        try await Self.withClient { client in
            let id = try await client.withScenario(Self.long(grace: .seconds(1))) { status in
                let outlived = try await eventually(timeout: .seconds(10)) {
                    let now = try await client.scenario(id: status.id)
                    guard now.state == .running else { throw TestFailure("ended early: \(now)") }
                    return now.elapsedMs > 3000
                }
                #expect(outlived)
                return status.id
            }
            let status = try await client.scenario(id: id)
            #expect(status.state == .ended && status.endReason == .stopped)
        }
    }

    // MARK: Servers without scenarios, and lost streams

    @Test
    func theReferenceServersAnswerMeansNoScenarios() async throws {
        let notFound =
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n"
            + "Content-Length: 19\r\n\r\n404 page not found\n"
        try await Self.withStandIn(answer: notFound, thenClose: false) { port in
            try await ToxiproxyClient.withClient(baseURL: "127.0.0.1:\(port)") { client in
                let supported = try await client.supportsScenarios()
                #expect(!supported)
            }
        }
        let broken = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"
        try await Self.withStandIn(answer: broken, thenClose: false) { port in
            try await ToxiproxyClient.withClient(baseURL: "127.0.0.1:\(port)") { client in
                let error = await ToxiproxyClientTests.error { _ = try await client.supportsScenarios() }
                #expect(error?.status == 500, "only a 404 means no scenarios")
            }
        }
    }

    @Test
    func aStreamCutBeforeTheEndThrowsAndNamesTheLastEvent() async throws {
        let first = ScenarioEvent(id: 1, kind: .started, atMs: 0)
        let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + first.sseFrame
        try await Self.withStandIn(answer: answer, thenClose: true) { port in
            try await ToxiproxyClient.withClient(baseURL: "127.0.0.1:\(port)") { client in
                var received: [ScenarioEvent] = []
                var failure: ToxiproxyClientError?
                do {
                    for try await event in client.scenarioEvents(id: "s1") { received.append(event) }
                } catch let error as ToxiproxyClientError {
                    failure = error
                }
                #expect(received == [first])
                #expect(failure?.code == .unreachable && failure?.message.contains("after: 1") == true)
            }
        }
    }

    /// An HTTP server on 127.0.0.1 that answers every request with `answer`, and closes after it if told to.
    static func withStandIn<T: Sendable>(
        answer: String,
        thenClose: Bool,
        _ run: (Int) async throws -> T
    ) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StandInResponder(answer: answer, close: thenClose))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let result = try await run(channel.localAddress!.port!)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }
}

/// Answers each request head (no bodies expected) with fixed bytes.
private final class StandInResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let answer: String
    let close: Bool
    private var received = ""

    init(answer: String, close: Bool) {
        self.answer = answer
        self.close = close
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += String(buffer: self.unwrapInboundIn(data))
        while let end = self.received.range(of: "\r\n\r\n") {
            self.received.removeSubrange(..<end.upperBound)
            let written = context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: self.answer)))
            if self.close {
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
