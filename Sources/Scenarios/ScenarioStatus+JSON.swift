import ToxiproxyModel

extension ScenarioStatus {
    /// The status as `GET /scenarios/{id}` answers it (keys as in docs/scenarios.md, in that order).
    public var jsonValue: JSONValue {
        .fields([
            ("id", .string(self.id)),
            ("name", .optionalString(self.name)),
            ("proxies", .array(self.proxies.map { .string($0) })),
            ("state", .string(self.state.rawValue)),
            ("end_reason", .optionalString(self.endReason?.rawValue)),
            ("started_at", .string(self.startedAt)),
            ("elapsed_ms", .milliseconds(self.elapsedMs)),
            ("bound_ms", .milliseconds(self.boundMs)),
            ("lease", self.leaseJSON),
            ("current_phase", self.currentPhase?.jsonValue ?? .null),
            ("next_due_ms", .optionalMilliseconds(self.nextDueMs)),
            ("phase_count", .optionalInteger(self.phaseCount)),
            ("history", .array(self.history.map(\.jsonValue))),
            ("kept", .array(self.kept.map(\.jsonValue))),
            ("restore_errors", .array(self.restoreErrors.map { .string($0) })),
        ])
    }

    /// The same status without its history, as `GET /scenarios` lists it.
    public var listed: ScenarioStatus {
        var copy = self
        copy.history = []
        return copy
    }

    private var leaseJSON: JSONValue {
        guard let grace = self.leaseGraceMs else { return .null }
        return .fields([
            ("grace_ms", .milliseconds(grace)),
            ("expires_in_ms", .optionalMilliseconds(self.leaseExpiresInMs)),
        ])
    }

    public init(json: JSONValue) throws(ScenarioError) {
        try self.init(WireObject(json, path: ""))
    }

    init(_ object: WireObject) throws(ScenarioError) {
        let lease = try object.optionalObject("lease")
        let currentPhase: PhaseRef?
        if let phase = try object.optionalObject("current_phase") {
            currentPhase = try PhaseRef(phase)
        } else {
            currentPhase = nil
        }
        self.init(
            id: try object.string("id"),
            name: try object.optionalString("name"),
            proxies: try object.strings("proxies"),
            state: try object.enumeration("state", RunState.self),
            endReason: try object.optionalEnumeration("end_reason", EndReason.self),
            startedAt: try object.string("started_at"),
            elapsedMs: try object.double("elapsed_ms"),
            boundMs: try object.double("bound_ms"),
            leaseGraceMs: try lease?.double("grace_ms"),
            leaseExpiresInMs: try lease?.optionalDouble("expires_in_ms"),
            currentPhase: currentPhase,
            nextDueMs: try object.optionalDouble("next_due_ms"),
            phaseCount: try object.optionalInt("phase_count"),
            history: try object.objects("history") { (entry) throws(ScenarioError) in try HistoryEntry(entry) },
            kept: try object.objects("kept") { (entry) throws(ScenarioError) in try KeptChange(entry) },
            restoreErrors: try object.strings("restore_errors")
        )
    }
}

extension ScenarioStatus.PhaseRef {
    /// `{"index", "name", "started_ms", "impaired", "outage"}`: the current phase of a status, the phase of an
    /// event.
    public var jsonValue: JSONValue {
        .fields([
            ("index", .integer(self.index)),
            ("name", .string(self.name)),
            ("started_ms", .milliseconds(self.startedMs)),
            ("impaired", .bool(self.impaired)),
            ("outage", .bool(self.outage)),
        ])
    }

    init(_ object: WireObject) throws(ScenarioError) {
        self.init(
            index: try object.int("index"),
            name: try object.string("name"),
            startedMs: try object.double("started_ms"),
            impaired: try object.bool("impaired"),
            outage: try object.bool("outage")
        )
    }
}

extension ScenarioStatus.HistoryEntry {
    /// One applied phase; `lateness_ms` is derived (`started_ms - due_ms`) and ignored when read.
    public var jsonValue: JSONValue {
        .fields([
            ("index", .integer(self.index)),
            ("name", .string(self.name)),
            ("due_ms", .milliseconds(self.dueMs)),
            ("started_ms", .milliseconds(self.startedMs)),
            ("ended_ms", .optionalMilliseconds(self.endedMs)),
            ("lateness_ms", .milliseconds(self.latenessMs)),
            ("impaired", .bool(self.impaired)),
            ("outage", .bool(self.outage)),
        ])
    }

    init(_ object: WireObject) throws(ScenarioError) {
        self.init(
            index: try object.int("index"),
            name: try object.string("name"),
            dueMs: try object.double("due_ms"),
            startedMs: try object.double("started_ms"),
            endedMs: try object.optionalDouble("ended_ms"),
            impaired: try object.bool("impaired"),
            outage: try object.bool("outage")
        )
    }
}

extension KeptChange {
    /// `{"proxy", "item", "detail"}`.
    public var jsonValue: JSONValue {
        .fields([
            ("proxy", .string(self.proxy)),
            ("item", .string(self.item)),
            ("detail", .string(self.detail)),
        ])
    }

    public init(json: JSONValue) throws(ScenarioError) {
        try self.init(WireObject(json, path: ""))
    }

    init(_ object: WireObject) throws(ScenarioError) {
        self.init(
            proxy: try object.string("proxy"),
            item: try object.string("item"),
            detail: try object.string("detail")
        )
    }
}
