import Foundation
import NIOCore
import NIOPosix
import ToxiproxyTestSupport

// A stand-in for a Toxiproxy without scenarios (Shopify's, or an older swift-toxiproxy): an HTTP/1.1 front on
// 127.0.0.1 that answers `/scenarios...` as Go's router answers an unknown path (404 "404 page not found") and
// passes every other request to a real server, so toxictl meets the reference's API surface with real proxies
// behind it.

/// Runs `body` with the port of a front for the admin API at `backendPort` that has no scenarios.
func withScenariolessFront<T: Sendable>(
    backendPort: Int,
    _ body: @Sendable (Int) async throws -> T
) async throws -> T {
    let backend = AdminClient(port: backendPort)
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let port = server.channel.localAddress!.port!
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        group.addTask {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { handlers in
                    for try await connection in connections {
                        handlers.addTask { try? await ScenariolessFront.serve(connection, backend: backend) }
                    }
                }
            }
        }
        do {
            let result = try await body(port)
            group.cancelAll()
            try? await server.channel.close()
            return result
        } catch {
            group.cancelAll()
            try? await server.channel.close()
            throw error
        }
    }
}

/// The `ProxyFixture` of `withProxy`, seen through a front without scenarios: toxictl and the test's own
/// checks both go through it.
func withProxyWithoutScenarios<T: Sendable>(_ body: @Sendable (ProxyFixture) async throws -> T) async throws -> T {
    try await withProxy { fixture in
        try await withScenariolessFront(backendPort: fixture.admin.port) { port in
            try await body(
                ProxyFixture(admin: AdminClient(port: port), echoPort: fixture.echoPort, proxyPort: fixture.proxyPort)
            )
        }
    }
}

enum ScenariolessFront {
    /// Answers the requests of one connection in order (keep-alive), until the client closes it.
    static func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, backend: AdminClient) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var pending: [UInt8] = []
            for try await buffer in inbound {
                pending += Array(buffer.readableBytesView)
                while let (request, used) = Self.request(in: pending) {
                    pending.removeFirst(used)
                    let bytes: [UInt8]
                    if request.path.hasPrefix("/scenarios") {
                        bytes = Self.encode(
                            status: 404,
                            type: "text/plain; charset=utf-8",
                            body: "404 page not found\n"
                        )
                    } else {
                        let response = try await backend.send(
                            request.method,
                            request.path,
                            body: request.body.isEmpty && request.method != "POST" ? nil : request.body
                        )
                        bytes = Self.encode(
                            status: response.status,
                            type: response.header("Content-Type") ?? "application/json",
                            body: response.body
                        )
                    }
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    if request.closes { return }
                }
            }
        }
    }

    struct Request {
        var method: String
        var path: String
        var body: String
        /// `Connection: close`: the client reads the answer until the connection closes.
        var closes: Bool
    }

    /// The first complete request in `bytes` and how many bytes it took; nil until one is complete.
    static func request(in bytes: [UInt8]) -> (Request, Int)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4,
            let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator })
        else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var length = 0
        var closes = false
        for line in lines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch pair[0].lowercased() {
            case "content-length": length = Int(value) ?? 0
            case "connection": closes = value.lowercased() == "close"
            default: break
            }
        }
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        let body = String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self)
        return (
            Request(method: String(parts[0]), path: String(parts[1]), body: body, closes: closes), bodyStart + length
        )
    }

    static func encode(status: Int, type: String, body: String) -> [UInt8] {
        let reason = status == 204 ? "No Content" : status < 300 ? "OK" : status == 404 ? "Not Found" : "Error"
        var text = "HTTP/1.1 \(status) \(reason)\r\n"
        if status == 204 { return Array((text + "\r\n").utf8) }
        text += "Content-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
        return Array(text.utf8) + Array(body.utf8)
    }
}
