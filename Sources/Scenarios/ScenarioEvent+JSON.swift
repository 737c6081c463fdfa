import ToxiproxyModel

extension ScenarioEvent {
    /// `{"id", "kind", "at_ms", "phase", "lateness_ms", "skipped", "end_reason", "kept", "message"}`, every key
    /// present (`null` when it does not apply).
    public var jsonValue: JSONValue {
        .fields([
            ("id", .integer(self.id)),
            ("kind", .string(self.kind.rawValue)),
            ("at_ms", .milliseconds(self.atMs)),
            ("phase", self.phase?.jsonValue ?? .null),
            ("lateness_ms", .optionalMilliseconds(self.latenessMs)),
            ("skipped", .optionalInteger(self.skipped)),
            ("end_reason", .optionalString(self.endReason?.rawValue)),
            ("kept", .array(self.kept.map(\.jsonValue))),
            ("message", .optionalString(self.message)),
        ])
    }

    public init(json: JSONValue) throws(ScenarioError) {
        try self.init(WireObject(json, path: ""))
    }

    init(_ object: WireObject) throws(ScenarioError) {
        let phase: ScenarioStatus.PhaseRef?
        if let phaseObject = try object.optionalObject("phase") {
            phase = try ScenarioStatus.PhaseRef(phaseObject)
        } else {
            phase = nil
        }
        self.init(
            id: try object.int("id"),
            kind: try object.enumeration("kind", Kind.self),
            atMs: try object.double("at_ms"),
            phase: phase,
            latenessMs: try object.optionalDouble("lateness_ms"),
            skipped: try object.optionalInt("skipped"),
            endReason: try object.optionalEnumeration("end_reason", EndReason.self),
            kept: try object.objects("kept") { (entry) throws(ScenarioError) in try KeptChange(entry) },
            message: try object.optionalString("message")
        )
    }

    /// The event as one server-sent-events frame: `id: N\nevent: KIND\ndata: JSON\n\n`. Compact JSON has no
    /// line breaks (they are escaped inside strings), so the data is always one line.
    public var sseFrame: String {
        "id: \(self.id)\nevent: \(self.kind.rawValue)\ndata: \(self.jsonValue.text)\n\n"
    }
}
