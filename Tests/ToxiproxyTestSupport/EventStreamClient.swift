import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A `text/event-stream` reader over a raw HTTP/1.1 connection: it sends one GET, decodes the chunked body as
/// it arrives and splits it into server-sent events, so a test sees each event when the server sends it and
/// whether the server ended the response.
public final class EventStreamClient: Sendable {
    public struct Event: Sendable, CustomStringConvertible {
        public var id: Int?
        public var kind: String
        public var data: String

        public var description: String { "#\(self.id.map(String.init) ?? "-") \(self.kind) \(self.data)" }
    }

    public struct Snapshot: Sendable {
        public var status: Int?
        public var headers: [(name: String, value: String)] = []
        public var events: [Event] = []
        /// Comment lines (`: keep-alive`).
        public var comments: [String] = []
        /// The response ended (its last chunk, or the connection closed).
        public var ended = false
        /// Whether the last chunk came before the end (a clean end of response, not a cut connection).
        public var endedCleanly = false

        public func header(_ name: String) -> String? {
            self.headers.last { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    private struct Parser {
        var raw: [UInt8] = []
        var headParsed = false
        var chunked = false
        var body: [UInt8] = []
    }

    private let state = NIOLockedValueBox(Snapshot())
    private let reader: Task<Void, Never>

    private init(connection: TCPTestClient.Connection, request: [UInt8]) {
        let state = self.state
        self.reader = Task {
            var parser = Parser()
            do {
                try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: request))
                    for try await buffer in inbound {
                        parser.raw.append(contentsOf: buffer.readableBytesView)
                        let done = Self.parse(&parser, into: state)
                        if done { break }
                    }
                }
            } catch {}
            state.withLockedValue { $0.ended = true }
        }
    }

    /// Opens `path` on the admin API at `port`, with `Last-Event-ID` when given.
    public static func open(port: Int, path: String, lastEventID: Int? = nil) async throws -> EventStreamClient {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUser-Agent: swift-toxiproxy-tests\r\n"
        request += "Accept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        let connection = try await TCPTestClient.connect(port: port)
        return EventStreamClient(connection: connection, request: Array(request.utf8))
    }

    public var snapshot: Snapshot { self.state.withLockedValue { $0 } }

    /// Waits until `condition` holds for what was read so far, or `timeout` passes; returns the last snapshot
    /// and whether it held.
    public func wait(
        timeout: Duration = .seconds(5),
        until condition: @Sendable (Snapshot) -> Bool
    ) async -> (snapshot: Snapshot, held: Bool) {
        let held = await eventually(timeout: timeout) { condition(self.snapshot) }
        return (self.snapshot, held)
    }

    /// Closes the connection.
    public func close() async {
        self.reader.cancel()
        await self.reader.value
    }

    /// Consumes what `parser.raw` holds; true once the response is complete.
    private static func parse(_ parser: inout Parser, into state: NIOLockedValueBox<Snapshot>) -> Bool {
        if !parser.headParsed {
            guard let end = parser.raw.firstRange(of: Array("\r\n\r\n".utf8)) else { return false }
            let head = String(decoding: parser.raw[..<end.lowerBound], as: UTF8.self)
            parser.raw.removeSubrange(..<end.upperBound)
            parser.headParsed = true
            var lines = head.split(separator: "\r\n")
            let statusLine = lines.isEmpty ? [] : lines.removeFirst().split(separator: " ")
            let headers = lines.compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
            }
            parser.chunked = headers.contains {
                $0.name.lowercased() == "transfer-encoding" && $0.value.lowercased() == "chunked"
            }
            state.withLockedValue {
                $0.status = statusLine.count >= 2 ? Int(statusLine[1]) : nil
                $0.headers = headers
            }
        }
        var finished = false
        if parser.chunked {
            while let lineEnd = parser.raw.firstRange(of: Array("\r\n".utf8)) {
                let sizeText = String(decoding: parser.raw[..<lineEnd.lowerBound], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else {
                    finished = true
                    break
                }
                if size == 0 {
                    finished = true
                    state.withLockedValue { $0.endedCleanly = true }
                    break
                }
                guard parser.raw.count >= lineEnd.upperBound + size + 2 else { break }
                parser.body.append(contentsOf: parser.raw[lineEnd.upperBound..<lineEnd.upperBound + size])
                parser.raw.removeSubrange(..<(lineEnd.upperBound + size + 2))
            }
        } else {
            parser.body.append(contentsOf: parser.raw)
            parser.raw.removeAll()
        }
        while let frameEnd = parser.body.firstRange(of: Array("\n\n".utf8)) {
            let frame = String(decoding: parser.body[..<frameEnd.lowerBound], as: UTF8.self)
            parser.body.removeSubrange(..<frameEnd.upperBound)
            var event = Event(id: nil, kind: "message", data: "")
            var comments: [String] = []
            var hasData = false
            for line in frame.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    comments.append(String(line.dropFirst().drop { $0 == " " }))
                } else if line.hasPrefix("id:") {
                    event.id = Int(line.dropFirst(3).drop { $0 == " " })
                } else if line.hasPrefix("event:") {
                    event.kind = String(line.dropFirst(6).drop { $0 == " " })
                } else if line.hasPrefix("data:") {
                    event.data += (hasData ? "\n" : "") + line.dropFirst(5).drop { $0 == " " }
                    hasData = true
                }
            }
            state.withLockedValue {
                $0.comments += comments
                if hasData || event.id != nil { $0.events.append(event) }
            }
        }
        if finished {
            state.withLockedValue { $0.ended = true }
        }
        return finished
    }
}
