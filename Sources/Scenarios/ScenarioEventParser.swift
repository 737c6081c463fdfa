import ToxiproxyModel

/// Splits a `text/event-stream` into events as bytes arrive (frames may be cut anywhere).
///
/// Follows the event-stream rules of the HTML standard: lines end with CRLF, LF or CR; `:` starts a comment
/// (the server's `: keep-alive`); `data:` lines of one frame join with `\n`; one space after the colon is
/// dropped; an empty line ends the frame, and a frame without data is no event. The data is the event's JSON;
/// when it lacks `id` or `kind`, the frame's `id:` and `event:` fill them in.
public struct ScenarioEventParser: Sendable {
    /// A line longer than this (no line end in sight) is an error rather than unbounded memory; the stream is
    /// then beyond repair.
    public static let maximumLineBytes = 4 << 20

    /// The last `id:` seen, which a client re-attaching sends as `Last-Event-ID`.
    public private(set) var lastEventID: String?

    private var line: [UInt8] = []
    private var afterCarriageReturn = false
    private var atStreamStart = true
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType: String?

    public init() {}

    /// The events completed by `bytes`; comment lines (`: keep-alive`) are skipped. A frame whose data is not
    /// an event throws (`.syntax` for bad JSON, `.invalidField` naming `data.KEY` for a wrong field) once all of
    /// `bytes` is read, so the parser stays in step for the bytes fed after it (this call's events are lost).
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ScenarioError) -> [ScenarioEvent] {
        var events: [ScenarioEvent] = []
        var firstError: ScenarioError?
        for byte in bytes {
            if self.afterCarriageReturn {
                self.afterCarriageReturn = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                self.afterCarriageReturn = byte == UInt8(ascii: "\r")
                let line = self.line
                self.line.removeAll(keepingCapacity: true)
                do {
                    if let event = try self.process(line: line) { events.append(event) }
                } catch {
                    firstError = firstError ?? error
                }
            default:
                guard self.line.count < Self.maximumLineBytes else {
                    throw ScenarioError(
                        code: .syntax,
                        field: "",
                        reason: "event stream line longer than \(Self.maximumLineBytes) bytes"
                    )
                }
                self.line.append(byte)
            }
        }
        if let firstError { throw firstError }
        return events
    }

    private mutating func process(line rawLine: [UInt8]) throws(ScenarioError) -> ScenarioEvent? {
        var line = rawLine[...]
        if self.atStreamStart {
            self.atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
        }
        if line.isEmpty { return try self.dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "data":
            if self.hasData { self.data.append(UInt8(ascii: "\n")) }
            self.data += value
            self.hasData = true
        case "event":
            self.eventType = String(decoding: value, as: UTF8.self)
        case "id":
            if !value.contains(0) { self.lastEventID = String(decoding: value, as: UTF8.self) }
        default:
            break  // `retry:` and unknown fields are ignored, as the standard says.
        }
        return nil
    }

    private mutating func dispatch() throws(ScenarioError) -> ScenarioEvent? {
        defer {
            self.data.removeAll(keepingCapacity: true)
            self.hasData = false
            self.eventType = nil
        }
        guard self.hasData else { return nil }
        let label = self.lastEventID.map { "event \($0)" } ?? "event"
        let json: JSONValue
        do {
            json = try JSONParser.parseFirstValue(self.data)
        } catch {
            throw ScenarioError(code: .syntax, field: "data", reason: "\(label): not JSON: \(error.message)")
        }
        guard case .object(var object) = json else {
            throw ScenarioError.invalid("data", "\(label): must be an object, got \(json.kindName)")
        }
        if object.value(forKey: "id") == nil, let id = self.lastEventID.flatMap({ Int($0) }) {
            object.members.append((key: "id", value: .integer(id)))
        }
        if object.value(forKey: "kind") == nil, let kind = self.eventType {
            object.members.append((key: "kind", value: .string(kind)))
        }
        do {
            return try ScenarioEvent(json: .object(object))
        } catch {
            throw ScenarioError(
                code: error.code,
                field: error.field.isEmpty ? "data" : "data.\(error.field)",
                reason: "\(label): \(error.reason)"
            )
        }
    }
}
