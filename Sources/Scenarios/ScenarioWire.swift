import ToxiproxyModel

// The JSON of the scenario API, in one place for the server and the client.

extension ScenarioStatus {
    public var jsonValue: JSONValue { fatalError("unimplemented") }
    public init(json: JSONValue) throws(ScenarioError) { fatalError("unimplemented") }
}

extension ScenarioEvent {
    public var jsonValue: JSONValue { fatalError("unimplemented") }
    public init(json: JSONValue) throws(ScenarioError) { fatalError("unimplemented") }

    /// The event as one server-sent-events frame: `id: N\nevent: KIND\ndata: JSON\n\n`.
    public var sseFrame: String { fatalError("unimplemented") }
}

/// Splits a `text/event-stream` into events as bytes arrive (frames may be cut anywhere).
public struct ScenarioEventParser: Sendable {
    public init() {}

    /// The events completed by `bytes`; comment lines (`: keep-alive`) are skipped.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ScenarioError) -> [ScenarioEvent] {
        fatalError("unimplemented")
    }
}

extension RecoveryReport {
    public var jsonValue: JSONValue { fatalError("unimplemented") }
    public init(json: JSONValue) throws(ScenarioError) { fatalError("unimplemented") }
}

extension KeptChange {
    public var jsonValue: JSONValue { fatalError("unimplemented") }
}

extension JSONValue {
    /// Compact JSON text.
    public var text: String { fatalError("unimplemented") }
}
