import ToxiproxyModel

extension RecoveryReport {
    /// The report as `GET /scenarios/{id}/report` answers it (keys as in docs/scenarios.md).
    public var jsonValue: JSONValue {
        .fields([
            ("id", .string(self.id)),
            ("name", .optionalString(self.name)),
            ("proxies", .array(self.proxies.map { .string($0) })),
            ("state", .string(self.state.rawValue)),
            ("end_reason", .optionalString(self.endReason?.rawValue)),
            ("phases", .array(self.phases.map(\.jsonValue))),
            ("transitions", .array(self.transitions.map(\.jsonValue))),
            ("totals", .fields(self.totals.jsonMembers)),
            ("kept", .array(self.kept.map(\.jsonValue))),
        ])
    }

    /// Reads a report; `totals` is taken as written when present (else summed from the phases).
    public init(json: JSONValue) throws(ScenarioError) {
        let object = try WireObject(json, path: "")
        self.init(
            id: try object.string("id"),
            name: try object.optionalString("name"),
            proxies: try object.strings("proxies"),
            state: try object.enumeration("state", ScenarioStatus.RunState.self),
            endReason: try object.optionalEnumeration("end_reason", EndReason.self),
            phases: try object.objects("phases") { (entry) throws(ScenarioError) in try Phase(entry) },
            transitions: try object.objects("transitions") { (entry) throws(ScenarioError) in
                try Transition(entry)
            },
            kept: try object.objects("kept") { (entry) throws(ScenarioError) in try KeptChange(entry) }
        )
        if let totals = try object.optionalObject("totals") {
            self.totals = try ActivityCounts(totals)
        }
    }
}

extension RecoveryReport.Phase {
    public var jsonValue: JSONValue {
        .fields(
            [
                ("index", .integer(self.index)),
                ("name", .string(self.name)),
                ("impaired", .bool(self.impaired)),
                ("outage", .bool(self.outage)),
                ("started_ms", .milliseconds(self.startedMs)),
                ("ended_ms", .optionalMilliseconds(self.endedMs)),
            ] + self.counts.jsonMembers + [
                ("attempts_per_second", .optionalMilliseconds(self.attemptsPerSecond))
            ]
        )
    }

    init(_ object: WireObject) throws(ScenarioError) {
        self.init(
            index: try object.int("index"),
            name: try object.string("name"),
            impaired: try object.bool("impaired"),
            outage: try object.bool("outage"),
            startedMs: try object.double("started_ms"),
            endedMs: try object.optionalDouble("ended_ms"),
            counts: try ActivityCounts(object),
            attemptsPerSecond: try object.optionalDouble("attempts_per_second")
        )
    }
}

extension RecoveryReport.Transition {
    public var jsonValue: JSONValue {
        .fields([
            ("from_phase", .integer(self.fromPhase)),
            ("to_phase", .integer(self.toPhase)),
            ("at_ms", .milliseconds(self.atMs)),
            ("first_connection_ms", .optionalMilliseconds(self.firstConnectionMs)),
            ("recovery_ms", .optionalMilliseconds(self.recoveryMs)),
        ])
    }

    init(_ object: WireObject) throws(ScenarioError) {
        self.init(
            fromPhase: try object.int("from_phase"),
            toPhase: try object.int("to_phase"),
            atMs: try object.double("at_ms"),
            firstConnectionMs: try object.optionalDouble("first_connection_ms"),
            recoveryMs: try object.optionalDouble("recovery_ms")
        )
    }
}

extension ActivityCounts {
    /// `{"accepted", "closed", "bytes_up", "bytes_down", "cut", "dial_failures"}` (the report's `totals`).
    public var jsonValue: JSONValue { .fields(self.jsonMembers) }

    /// The members, also inlined in each phase of the report.
    var jsonMembers: [(key: String, value: JSONValue)] {
        [
            ("accepted", .integer(self.accepted)),
            ("closed", .integer(self.closed)),
            ("bytes_up", .integer(self.bytesUp)),
            ("bytes_down", .integer(self.bytesDown)),
            ("cut", .integer(self.cut)),
            ("dial_failures", .integer(self.dialFailures)),
        ]
    }

    init(_ object: WireObject) throws(ScenarioError) {
        self.init(
            accepted: try object.int64("accepted"),
            closed: try object.int64("closed"),
            bytesUp: try object.int64("bytes_up"),
            bytesDown: try object.int64("bytes_down"),
            cut: try object.int64("cut"),
            dialFailures: try object.int64("dial_failures")
        )
    }
}
