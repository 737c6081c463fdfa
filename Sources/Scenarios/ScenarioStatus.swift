import ToxiproxyModel

/// A scenario run as `GET /scenarios/{id}` shows it (and, without `history`, as `GET /scenarios` lists it).
/// All `*_ms` figures are milliseconds relative to the scenario's start on the server's monotonic clock.
public struct ScenarioStatus: Sendable, Equatable {
    public enum RunState: String, Sendable, Equatable {
        case running
        /// Ended and restored.
        case ended
    }

    public struct PhaseRef: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var startedMs: Double
        public var impaired: Bool
        public var outage: Bool

        public init(index: Int, name: String, startedMs: Double, impaired: Bool, outage: Bool) {
            self.index = index
            self.name = name
            self.startedMs = startedMs
            self.impaired = impaired
            self.outage = outage
        }
    }

    /// One applied phase.
    public struct HistoryEntry: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var dueMs: Double
        public var startedMs: Double
        public var endedMs: Double?
        public var impaired: Bool
        public var outage: Bool

        public var latenessMs: Double { self.startedMs - self.dueMs }

        public init(
            index: Int,
            name: String,
            dueMs: Double,
            startedMs: Double,
            endedMs: Double?,
            impaired: Bool,
            outage: Bool
        ) {
            self.index = index
            self.name = name
            self.dueMs = dueMs
            self.startedMs = startedMs
            self.endedMs = endedMs
            self.impaired = impaired
            self.outage = outage
        }
    }

    public var id: String
    public var name: String?
    public var proxies: [String]
    public var state: RunState
    public var endReason: EndReason?
    /// Wall-clock start, RFC 3339 UTC (for people; schedules use the monotonic figures).
    public var startedAt: String
    public var elapsedMs: Double
    /// The hard bound.
    public var boundMs: Double
    /// Nil without a lease.
    public var leaseGraceMs: Double?
    /// Time left before the lease runs out; nil without a lease or once ended.
    public var leaseExpiresInMs: Double?
    public var currentPhase: PhaseRef?
    /// When the next phase (or the end) is due; nil once ended.
    public var nextDueMs: Double?
    /// Phases in the whole run; nil for an endless repeat cut by the bound only.
    public var phaseCount: Int?
    /// Applied phases so far (empty in lists).
    public var history: [HistoryEntry]
    /// What the restore kept because someone else had changed it.
    public var kept: [KeptChange]
    /// Restore steps that failed (the server logs them too).
    public var restoreErrors: [String]

    public init(
        id: String,
        name: String?,
        proxies: [String],
        state: RunState,
        endReason: EndReason?,
        startedAt: String,
        elapsedMs: Double,
        boundMs: Double,
        leaseGraceMs: Double?,
        leaseExpiresInMs: Double?,
        currentPhase: PhaseRef?,
        nextDueMs: Double?,
        phaseCount: Int?,
        history: [HistoryEntry],
        kept: [KeptChange],
        restoreErrors: [String]
    ) {
        self.id = id
        self.name = name
        self.proxies = proxies
        self.state = state
        self.endReason = endReason
        self.startedAt = startedAt
        self.elapsedMs = elapsedMs
        self.boundMs = boundMs
        self.leaseGraceMs = leaseGraceMs
        self.leaseExpiresInMs = leaseExpiresInMs
        self.currentPhase = currentPhase
        self.nextDueMs = nextDueMs
        self.phaseCount = phaseCount
        self.history = history
        self.kept = kept
        self.restoreErrors = restoreErrors
    }
}

// For the error that lists the allowed values of a wire field.
extension ScenarioStatus.RunState: CaseIterable {}
