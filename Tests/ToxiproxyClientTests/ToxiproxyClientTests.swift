import Foundation
import NIOCore
import NIOPosix
import Testing
import ToxiproxyClient
import ToxiproxyModel
import ToxiproxyTestSupport

/// The client against a real server on loopback: every call, and every kind of failure.
@Suite
struct ToxiproxyClientTests {
    @Test
    func everyCallRoundTripsAgainstTheServer() async throws {
        try await withTestServer { server in
            try await ToxiproxyClient.withClient(baseURL: "127.0.0.1:\(server.adminPort)") { client in
                #expect(client.baseURL == "http://127.0.0.1:\(server.adminPort)")
                #expect(try await client.version() == "2.12.0")
                #expect(try await client.proxies().isEmpty)

                let created = try await client.createProxy(
                    name: "db",
                    listen: "127.0.0.1:0",
                    upstream: "127.0.0.1:5432"
                )
                #expect(created.name == "db" && created.enabled && created.upstream == "127.0.0.1:5432")
                #expect(created.listen.hasPrefix("127.0.0.1:") && created.listen != "127.0.0.1:0")
                #expect(try await client.proxies().map(\.name) == ["db"])

                let toxic = try await client.addToxic(
                    ToxicDefinition(name: "slow", type: "latency", stream: .upstream, attributes: [("latency", 250)]),
                    toProxy: "db"
                )
                #expect(toxic.name == "slow" && toxic.direction == .upstream && toxic.attributes["latency"] == 250)
                let defaultNamed = try await client.addToxic(ToxicDefinition(type: "timeout"), toProxy: "db")
                #expect(defaultNamed.name == "timeout_downstream")
                #expect(try await client.toxics(ofProxy: "db").map(\.name) == ["slow", "timeout_downstream"])

                let updated = try await client.updateToxic(
                    named: "slow",
                    ofProxy: "db",
                    attributes: [("jitter", 20)],
                    toxicity: 0.5
                )
                #expect(updated.attributes["latency"] == 250, "attributes merge key by key")
                #expect(updated.attributes["jitter"] == 20 && updated.toxicity == 0.5)
                #expect(try await client.toxic(named: "slow", ofProxy: "db") == updated)

                let disabled = try await client.updateProxy(named: "db", enabled: false)
                #expect(!disabled.enabled && disabled.toxics.count == 2)

                try await client.removeToxic(named: "timeout_downstream", fromProxy: "db")
                try await client.reset()
                let afterReset = try await client.proxy(named: "db")
                #expect(afterReset.enabled && afterReset.toxics.isEmpty)

                let populated = try await client.populate([
                    Proxy(name: "db", listen: afterReset.listen, upstream: "127.0.0.1:5432", enabled: true),
                    Proxy(name: "cache", listen: "127.0.0.1:0", upstream: "127.0.0.1:6379", enabled: false),
                ])
                #expect(populated.map(\.name) == ["db", "cache"])
                try await client.deleteProxy(named: "db")
                #expect(try await client.proxies().map(\.name) == ["cache"])
            }
        }
    }

    @Test
    func serverErrorsCarryTheStatusAndTheServersMessage() async throws {
        try await withTestServer { server in
            try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(server.adminPort)") { client in
                let missing = await Self.error { _ = try await client.proxy(named: "nope") }
                #expect(missing?.code == .server && missing?.status == 404 && missing?.isNotFound == true)
                #expect(missing?.message == "proxy not found")
                #expect(
                    missing?.description
                        == "GET http://127.0.0.1:\(server.adminPort)/proxies/nope: HTTP 404: proxy not found"
                )

                _ = try await client.createProxy(name: "p", listen: "127.0.0.1:0", upstream: "127.0.0.1:1")
                let conflict = await Self.error {
                    _ = try await client.createProxy(name: "p", listen: "127.0.0.1:0", upstream: "127.0.0.1:1")
                }
                #expect(conflict?.status == 409 && conflict?.isConflict == true)
                #expect(conflict?.message == "proxy already exists")

                let badType = await Self.error {
                    _ = try await client.addToxic(ToxicDefinition(type: "nope"), toProxy: "p")
                }
                #expect(badType?.status == 400 && badType?.message == "invalid toxic type")
            }
        }
    }

    @Test
    func anUnreachableServerNamesTheURLTried() async throws {
        let port = try await Self.closedPort()
        let error = await Self.error {
            try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(port)") { client in
                _ = try await client.version()
            }
        }
        #expect(error?.code == .unreachable)
        #expect(error?.message.contains("http://127.0.0.1:\(port)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("connection refused") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["ftp://host:21", "http://", ""])
    func anUnusableURLIsRejectedBeforeAnyRequest(url: String) async throws {
        let error = await Self.error {
            try await ToxiproxyClient.withClient(baseURL: url) { client in _ = try await client.version() }
        }
        #expect(error?.code == .invalidURL, "\(url): \(String(describing: error))")
    }

    /// Toxiproxy 2.6 answers `/version` with a bare version string; anything that is not the API is reported
    /// as such rather than as a crash or a bogus value.
    @Test
    func olderVersionBodiesAreAcceptedAndForeignServersAreNamed() async throws {
        try await Self.withFixedHTTPServer(body: "2.6.0\n") { (port: Int) async throws -> Void in
            try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(port)") { client in
                let version = try await client.version()
                #expect(version == "2.6.0")
                let foreign = await Self.error { _ = try await client.proxies() }
                #expect(foreign?.code == .invalidResponse, "\(String(describing: foreign))")
                #expect(foreign?.message.contains("Toxiproxy") == true)
            }
        }
    }

    // MARK: Helpers

    static func error(_ body: () async throws -> Void) async -> ToxiproxyClientError? {
        do {
            try await body()
            return nil
        } catch let error as ToxiproxyClientError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    /// An HTTP/1.1 server on 127.0.0.1 that answers every request with 200 and `body` as plain text.
    static func withFixedHTTPServer<T: Sendable>(body: String, _ run: (Int) async throws -> T) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FixedResponder(body: body))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { channel.close(promise: nil) }
        return try await run(channel.localAddress!.port!)
    }
}

/// Answers each request (one per `\r\n\r\n`, no bodies expected) with a fixed text response.
private final class FixedResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let body: String
    private var received = ""

    init(body: String) { self.body = body }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += String(buffer: self.unwrapInboundIn(data))
        while let end = self.received.range(of: "\r\n\r\n") {
            self.received.removeSubrange(..<end.upperBound)
            let response =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(self.body.utf8.count)\r\n\r\n\(self.body)"
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
        }
    }
}
