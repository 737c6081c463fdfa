import NIOCore
import NIOPosix

/// A deliberately plain HTTP/1.1 client: one connection per request, `Connection: close`, raw bytes in and
/// out, so tests see exactly what the server sends (header presence, trailing newlines, content types).
public struct AdminClient: Sendable {
    public let port: Int
    public var host = "127.0.0.1"

    public init(port: Int, host: String = "127.0.0.1") {
        self.port = port
        self.host = host
    }

    public struct Response: Sendable, CustomStringConvertible {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: String

        public func header(_ name: String) -> String? {
            self.headers.last { $0.name.lowercased() == name.lowercased() }?.value
        }

        public var description: String { "HTTP \(self.status) \(self.body)" }
    }

    public func get(_ path: String) async throws -> Response {
        try await self.send("GET", path)
    }

    public func post(_ path: String, _ body: String? = nil) async throws -> Response {
        try await self.send("POST", path, body: body)
    }

    public func patch(_ path: String, _ body: String? = nil) async throws -> Response {
        try await self.send("PATCH", path, body: body)
    }

    public func delete(_ path: String) async throws -> Response {
        try await self.send("DELETE", path)
    }

    public func send(
        _ method: String,
        _ path: String,
        body: String? = nil,
        headers: [(String, String)] = [("User-Agent", "swift-toxiproxy-tests")]
    ) async throws -> Response {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(self.host):\(self.port)\r\nConnection: close\r\n"
        for (name, value) in headers {
            request += "\(name): \(value)\r\n"
        }
        if let body {
            request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            request += "Content-Length: 0\r\n\r\n"
        }
        let raw = try await TCPTestClient.exchange(host: self.host, port: self.port, send: Array(request.utf8))
        return try Self.parse(raw)
    }

    private static func parse(_ raw: [UInt8]) throws -> Response {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let headerEnd = raw.firstRange(of: separator) else {
            throw TestFailure("no complete HTTP response in \(raw.count) bytes")
        }
        let head = String(decoding: raw[..<headerEnd.lowerBound], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestFailure("bad status line in \(head)")
        }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingPrefix(" ").description)
        }
        var body = Array(raw[headerEnd.upperBound...])
        if headers.contains(where: { $0.name.lowercased() == "transfer-encoding" && $0.value == "chunked" }) {
            body = try Self.dechunk(body)
        }
        return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    private static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard let lineEnd = bytes[index...].firstRange(of: Array("\r\n".utf8)) else { break }
            let sizeText = String(decoding: bytes[index..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16) else { throw TestFailure("bad chunk size \(sizeText)") }
            if size == 0 { break }
            let start = lineEnd.upperBound
            output.append(contentsOf: bytes[start..<start + size])
            index = start + size + 2
        }
        return output
    }
}
