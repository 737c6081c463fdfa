import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 client for the admin API: one connection per call, `Connection: close`.
///
/// Hand-rolled on purpose: the benchmark must work against any Toxiproxy-compatible server and must not
/// add its own client's overhead (or a dependency) to the admin latency it measures.
struct AdminClient: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: String
        /// When the last byte arrived, stamped on the event loop: the caller's own wake-up delay is not
        /// part of the server's latency.
        var completedAt: UInt64
    }

    let group: any EventLoopGroup
    let port: Int

    func request(
        _ method: String,
        _ path: String,
        body: String? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(self.port)\r\n"
        head += "User-Agent: toxiproxy-benchmark\r\nConnection: close\r\n"
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        }
        let requestText = head + "\r\n" + (body ?? "")
        let eventLoop = self.group.next()
        let response = eventLoop.makePromise(of: Response.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ResponseReader(promise: response))
                    }
                }
                .connect(host: "127.0.0.1", port: self.port)
                .get(within: timeout, "connect to admin API on port \(self.port)")
        } catch {
            response.fail(error)
            throw error
        }
        defer { channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer(string: requestText), promise: nil)
        return try await response.futureResult.get(within: timeout, "\(method) \(path)")
    }

    /// Creates a proxy and returns the port it listens on, read from the `listen` field of the answer.
    func createProxy(name: String, upstreamPort: Int) async throws -> Int {
        let body = #"{"name":"\#(name)","listen":"127.0.0.1:0","upstream":"127.0.0.1:\#(upstreamPort)"}"#
        let response = try await self.request("POST", "/proxies", body: body)
        guard response.status == 201 else {
            throw BenchmarkError("POST /proxies \(name): HTTP \(response.status) \(response.body)")
        }
        guard let listen = jsonStringField("listen", in: response.body),
            let portText = listen.split(separator: ":").last, let port = Int(portText), port > 0
        else {
            throw BenchmarkError("POST /proxies \(name): no listen port in \(response.body)")
        }
        return port
    }

    /// Adds a toxic; fails unless the server answers 200 (Toxiproxy's status for a created toxic).
    /// Returns when the answer arrived (see `Response.completedAt`).
    @discardableResult
    func addToxic(
        proxy: String,
        name: String,
        type: String,
        stream: String,
        attributes: String,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> UInt64 {
        let body = #"{"name":"\#(name)","type":"\#(type)","stream":"\#(stream)","attributes":\#(attributes)}"#
        let response = try await self.request("POST", "/proxies/\(proxy)/toxics", body: body, timeout: timeout)
        guard response.status == 200 else {
            throw BenchmarkError("add toxic \(name): HTTP \(response.status) \(response.body)")
        }
        return response.completedAt
    }

    @discardableResult
    func removeToxic(proxy: String, name: String, timeout: TimeAmount = .seconds(30)) async throws -> UInt64 {
        let response = try await self.request("DELETE", "/proxies/\(proxy)/toxics/\(name)", timeout: timeout)
        guard response.status == 204 else {
            throw BenchmarkError("remove toxic \(name): HTTP \(response.status) \(response.body)")
        }
        return response.completedAt
    }
}

/// The string value of `"key": "..."` in a flat JSON object; enough for the proxy's `listen` field.
func jsonStringField(_ key: String, in json: String) -> String? {
    guard let keyRange = json.firstRange(of: "\"\(key)\"") else { return nil }
    var rest = json[keyRange.upperBound...].drop { $0 == " " }
    guard rest.first == ":" else { return nil }
    rest = rest.dropFirst().drop { $0 == " " }
    guard rest.first == "\"" else { return nil }
    rest = rest.dropFirst()
    guard let end = rest.firstIndex(of: "\"") else { return nil }
    return String(rest[..<end])
}

/// Collects one HTTP response: complete once the head and `Content-Length` body bytes are in, or at EOF
/// when there is no length.
private final class ResponseReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    private var promise: EventLoopPromise<AdminClient.Response>?

    init(promise: EventLoopPromise<AdminClient.Response>) {
        self.promise = promise
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.finish(.failure(BenchmarkError("admin API connection ended without a response")))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&bytes)
        if let response = self.parse(atEOF: false) {
            self.finish(.success(response))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let response = self.parse(atEOF: true) {
            self.finish(.success(response))
        } else {
            self.finish(.failure(BenchmarkError("admin API closed the connection without a full response")))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<AdminClient.Response, any Error>) {
        self.promise?.completeWith(result)
        self.promise = nil
    }

    private func parse(atEOF: Bool) -> AdminClient.Response? {
        let text = String(buffer: self.buffer)
        guard let headEnd = text.firstRange(of: "\r\n\r\n") else { return nil }
        let head = text[..<headEnd.lowerBound]
        let body = text[headEnd.upperBound...]
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first else { return nil }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var contentLength: Int?
        for line in lines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == "content-length" {
                contentLength = Int(pair[1].filter { !$0.isWhitespace })
            }
        }
        // 204 and 304 have no body whatever the headers say.
        if status == 204 || status == 304 {
            return .init(status: status, body: "", completedAt: nowNanos())
        }
        if let contentLength {
            guard body.utf8.count >= contentLength else { return nil }
            return .init(status: status, body: String(body), completedAt: nowNanos())
        }
        return atEOF ? .init(status: status, body: String(body), completedAt: nowNanos()) : nil
    }
}
