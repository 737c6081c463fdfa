/// Why a scenario ended.
public enum EndReason: String, Sendable, Equatable, CaseIterable {
    /// Its timeline ran to the end.
    case completed
    /// Its hard bound (`for`) came first.
    case boundReached = "bound_reached"
    /// Someone stopped it (API, toxictl, Ctrl+C).
    case stopped
    /// Heartbeats stopped for longer than the grace period.
    case leaseExpired = "lease_expired"
    /// The server shut down.
    case shutdown
    /// Applying a phase failed (the proxy was deleted, a toxic was rejected).
    case failed
}

/// The life of one scenario run as a value-type state machine over injected monotonic time: which phase is
/// due when, lease renewals and expiry, the hard bound, and the end. It does no I/O: the caller applies the
/// phases it is told to, restores when told, and calls `advance(now:)` again at `nextWake`.
///
/// Times are `Duration`s on one monotonic clock with any origin (the server passes the time since it
/// started); `start(now:)` fixes the scenario's origin, and phases fall due at `origin + phase.start`, so
/// a late wake-up never shifts the phases after it.
public struct ScenarioEngine: Sendable {
    public enum State: Sendable, Equatable {
        case pending
        case running(phaseIndex: Int)
        case ended(EndReason)
    }

    /// What the caller must do now.
    public enum Action: Sendable, Equatable {
        /// Bring the proxies to this phase's states. `lateness` is how long after its due time it is applied;
        /// `skipped` counts phases that fell due and ended while the caller was late (never applied).
        case apply(PlannedPhase, lateness: Duration, skipped: Int)
        /// The scenario is over: restore, then report `ended`.
        case restore(EndReason)
    }

    /// One phase as it ran.
    public struct PhaseRecord: Sendable, Equatable {
        public var index: Int
        public var name: String
        /// Scheduled start, relative to the scenario's start.
        public var due: Duration
        /// When it was applied, relative to the scenario's start (`due` + lateness).
        public var started: Duration
        /// When the next phase or the end replaced it, relative to the scenario's start; nil while it runs.
        public var ended: Duration?
        public var impaired: Bool
        public var outage: Bool
    }

    public let plan: ScenarioPlan
    public private(set) var state: State = .pending
    /// Phases applied so far, in order.
    public private(set) var history: [PhaseRecord] = []
    /// The scenario's origin on the caller's clock (set by `start`).
    public private(set) var origin: Duration?
    /// When the lease runs out, on the caller's clock; nil without a lease.
    public private(set) var leaseExpiry: Duration?

    public init(plan: ScenarioPlan) {
        self.plan = plan
    }

    /// Starts the scenario at `now`: the first phase to apply.
    public mutating func start(now: Duration) -> [Action] {
        fatalError("unimplemented")
    }

    /// Whatever has fallen due by `now`: the next phase (skipping those already over), or the end (timeline
    /// done, bound reached, lease expired — the first of them to come due wins).
    public mutating func advance(now: Duration) -> [Action] {
        fatalError("unimplemented")
    }

    /// A heartbeat at `now` renews the lease to `now + grace`. False when the scenario has no lease or has
    /// ended (nothing renewed).
    public mutating func heartbeat(now: Duration) -> Bool {
        fatalError("unimplemented")
    }

    /// Ends the scenario now for `reason` (stop, shutdown, failure); empty if it has already ended.
    public mutating func stop(now: Duration, reason: EndReason) -> [Action] {
        fatalError("unimplemented")
    }

    /// When `advance(now:)` must next be called: the next phase's due time, the lease expiry or the end,
    /// whichever is first; nil once ended.
    public var nextWake: Duration? {
        fatalError("unimplemented")
    }

    /// The phase running now, if any.
    public var currentPhase: PlannedPhase? {
        guard case .running(let index) = self.state else { return nil }
        return self.plan.phase(at: index)
    }
}
