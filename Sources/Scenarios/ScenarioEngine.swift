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

        public init(
            index: Int,
            name: String,
            due: Duration,
            started: Duration,
            ended: Duration?,
            impaired: Bool,
            outage: Bool
        ) {
            self.index = index
            self.name = name
            self.due = due
            self.started = started
            self.ended = ended
            self.impaired = impaired
            self.outage = outage
        }
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

    /// When it ended, relative to the scenario's start; nil while it runs.
    public private(set) var endedAt: Duration?

    /// Starts the scenario at `now`: the first phase to apply. Empty unless pending.
    public mutating func start(now: Duration) -> [Action] {
        guard case .pending = self.state else { return [] }
        self.origin = now
        if case .heartbeat(let grace) = self.plan.scenario.lease {
            self.leaseExpiry = now + grace
        }
        // A validated scenario always has a first phase (its end is > 0).
        guard let first = self.plan.phase(at: 0) else {
            return self.end(at: .zero, reason: .completed)
        }
        self.enter(first, at: .zero)
        return [.apply(first, lateness: .zero, skipped: 0)]
    }

    /// Whatever has fallen due by `now`: the next phase (skipping those already over), or the end (timeline
    /// done, bound reached, lease expired — the first of them to come due wins).
    ///
    /// When the timeline's end and the lease expiry fall due at the same instant, the timeline's end wins: the
    /// scenario ran its whole course, and the restore is the same. An end that has fallen due always wins over
    /// a phase, which would otherwise be applied only to be restored at once.
    public mutating func advance(now: Duration) -> [Action] {
        guard case .running(let current) = self.state, let origin = self.origin else { return [] }
        let elapsed = now - origin
        let timelineEnd = self.plan.end
        let leaseEnd = self.leaseExpiry.map { $0 - origin }
        if let leaseEnd, leaseEnd < timelineEnd, elapsed >= leaseEnd {
            return self.end(at: elapsed, reason: .leaseExpired)
        }
        if elapsed >= timelineEnd {
            return self.end(at: elapsed, reason: self.timelineEndReason)
        }
        guard let index = self.plan.phaseIndex(at: elapsed), index > current,
            let phase = self.plan.phase(at: index)
        else { return [] }
        self.enter(phase, at: elapsed)
        return [.apply(phase, lateness: elapsed - phase.start, skipped: index - current - 1)]
    }

    /// `completed` when the timeline ran to its end, `bound_reached` when the bound cut it (or an endless repeat).
    private var timelineEndReason: EndReason {
        guard let length = self.plan.timelineLength, length <= self.plan.end else { return .boundReached }
        return .completed
    }

    /// A heartbeat at `now` renews the lease to `now + grace`. False when the scenario has no lease or has
    /// ended (nothing renewed), and when the lease has already run out by `now` (the next `advance` ends it).
    public mutating func heartbeat(now: Duration) -> Bool {
        guard case .heartbeat(let grace) = self.plan.scenario.lease else { return false }
        switch self.state {
        case .ended:
            return false
        case .pending:
            return true
        case .running:
            if let expiry = self.leaseExpiry, now >= expiry { return false }
            self.leaseExpiry = now + grace
            return true
        }
    }

    /// Ends the scenario now for `reason` (stop, shutdown, failure); empty if it has already ended.
    public mutating func stop(now: Duration, reason: EndReason) -> [Action] {
        switch self.state {
        case .ended:
            return []
        case .pending:
            self.state = .ended(reason)
            return [.restore(reason)]
        case .running:
            return self.end(at: now - (self.origin ?? now), reason: reason)
        }
    }

    /// When `advance(now:)` must next be called: the next phase's due time, the lease expiry or the end,
    /// whichever is first; nil once ended (and before the start).
    public var nextWake: Duration? {
        guard case .running(let current) = self.state, let origin = self.origin else { return nil }
        var wake = origin + self.plan.end
        if let next = self.plan.phase(at: current + 1) {
            wake = min(wake, origin + next.start)
        }
        if let leaseExpiry = self.leaseExpiry {
            wake = min(wake, leaseExpiry)
        }
        return wake
    }

    private mutating func enter(_ phase: PlannedPhase, at elapsed: Duration) {
        self.closeCurrentRecord(at: elapsed)
        self.history.append(
            PhaseRecord(
                index: phase.index,
                name: phase.name,
                due: phase.start,
                started: elapsed,
                ended: nil,
                impaired: phase.impaired,
                outage: phase.outage
            )
        )
        self.state = .running(phaseIndex: phase.index)
    }

    private mutating func end(at elapsed: Duration, reason: EndReason) -> [Action] {
        self.closeCurrentRecord(at: elapsed)
        self.endedAt = elapsed
        self.state = .ended(reason)
        return [.restore(reason)]
    }

    private mutating func closeCurrentRecord(at elapsed: Duration) {
        guard let last = self.history.indices.last, self.history[last].ended == nil else { return }
        self.history[last].ended = elapsed
    }

    /// The phase running now, if any.
    public var currentPhase: PlannedPhase? {
        guard case .running(let index) = self.state else { return nil }
        return self.plan.phase(at: index)
    }
}
