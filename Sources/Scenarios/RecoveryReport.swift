/// Counts of what crossed a scenario's proxies, summed over them.
public struct ActivityCounts: Sendable, Equatable {
    /// Client connections accepted.
    public var accepted: Int64
    /// Client connections that ended (both sockets closed).
    public var closed: Int64
    /// Bytes read from clients (towards the upstream).
    public var bytesUp: Int64
    /// Bytes read from upstreams (towards the clients).
    public var bytesDown: Int64
    /// Connections the proxy cut itself: by a toxic (timeout expiry, reset_peer, limit_data) or by an outage
    /// (disabling the proxy closes its live connections).
    public var cut: Int64
    /// Upstream connections that could not be opened.
    public var dialFailures: Int64

    public init(accepted: Int64 = 0, closed: Int64 = 0, bytesUp: Int64 = 0, bytesDown: Int64 = 0, cut: Int64 = 0, dialFailures: Int64 = 0) {
        self.accepted = accepted
        self.closed = closed
        self.bytesUp = bytesUp
        self.bytesDown = bytesDown
        self.cut = cut
        self.dialFailures = dialFailures
    }

    public static let zero = ActivityCounts()

    public static func + (lhs: ActivityCounts, rhs: ActivityCounts) -> ActivityCounts {
        ActivityCounts(
            accepted: lhs.accepted + rhs.accepted,
            closed: lhs.closed + rhs.closed,
            bytesUp: lhs.bytesUp + rhs.bytesUp,
            bytesDown: lhs.bytesDown + rhs.bytesDown,
            cut: lhs.cut + rhs.cut,
            dialFailures: lhs.dialFailures + rhs.dialFailures
        )
    }

    public static func - (lhs: ActivityCounts, rhs: ActivityCounts) -> ActivityCounts {
        ActivityCounts(
            accepted: lhs.accepted - rhs.accepted,
            closed: lhs.closed - rhs.closed,
            bytesUp: lhs.bytesUp - rhs.bytesUp,
            bytesDown: lhs.bytesDown - rhs.bytesDown,
            cut: lhs.cut - rhs.cut,
            dialFailures: lhs.dialFailures - rhs.dialFailures
        )
    }
}

/// What the scenario's proxies saw, phase by phase, and how fast the service came back after each impaired
/// phase (`GET /scenarios/{id}/report`; `toxictl scenario report`).
public struct RecoveryReport: Sendable, Equatable {
    public struct Phase: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var impaired: Bool
        public var outage: Bool
        public var startedMs: Double
        /// Nil while the phase runs.
        public var endedMs: Double?
        public var counts: ActivityCounts
        /// For impaired phases: connections accepted per second of the phase. Nil in an outage, where the
        /// proxy cannot see attempts (a disabled proxy's refused connections never reach it).
        public var attemptsPerSecond: Double?

        public init(
            index: Int,
            name: String,
            impaired: Bool,
            outage: Bool,
            startedMs: Double,
            endedMs: Double?,
            counts: ActivityCounts,
            attemptsPerSecond: Double?
        ) {
            self.index = index
            self.name = name
            self.impaired = impaired
            self.outage = outage
            self.startedMs = startedMs
            self.endedMs = endedMs
            self.counts = counts
            self.attemptsPerSecond = attemptsPerSecond
        }
    }

    /// An impaired → healthy transition, and how long the service took to use the healthy path.
    public struct Transition: Sendable, Equatable {
        /// The impaired phase that ended and the healthy one that began.
        public var fromPhase: Int
        public var toPhase: Int
        /// When the healthy phase was applied.
        public var atMs: Double
        /// Until the first client connection accepted after the transition; nil if none came (yet).
        public var firstConnectionMs: Double?
        /// Recovery time: until the first byte from an upstream was delivered to a client after the
        /// transition; nil if none came (yet).
        public var recoveryMs: Double?

        public init(fromPhase: Int, toPhase: Int, atMs: Double, firstConnectionMs: Double?, recoveryMs: Double?) {
            self.fromPhase = fromPhase
            self.toPhase = toPhase
            self.atMs = atMs
            self.firstConnectionMs = firstConnectionMs
            self.recoveryMs = recoveryMs
        }
    }

    public var id: String
    public var name: String?
    public var proxies: [String]
    public var state: ScenarioStatus.RunState
    public var endReason: EndReason?
    public var phases: [Phase]
    public var transitions: [Transition]
    public var totals: ActivityCounts
    public var kept: [KeptChange]

    public init(
        id: String,
        name: String?,
        proxies: [String],
        state: ScenarioStatus.RunState,
        endReason: EndReason?,
        phases: [Phase],
        transitions: [Transition],
        kept: [KeptChange]
    ) {
        self.id = id
        self.name = name
        self.proxies = proxies
        self.state = state
        self.endReason = endReason
        self.phases = phases
        self.transitions = transitions
        self.totals = phases.reduce(.zero) { $0 + $1.counts }
        self.kept = kept
    }
}
