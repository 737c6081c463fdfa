import ToxiproxyModel

/// What one proxy looks like during a phase, as far as the scenario manages it.
public struct ProxyState: Sendable, Equatable {
    public var enabled: Bool
    /// The scenario's toxics on the proxy during the phase, in creation order.
    public var toxics: [Toxic]

    public init(enabled: Bool = true, toxics: [Toxic] = []) {
        self.enabled = enabled
        self.toxics = toxics
    }
}

/// One phase of the expanded timeline, with its place on the schedule.
public struct PlannedPhase: Sendable, Equatable {
    /// Position in the run, from 0; phases of repeats and ramps count one each.
    public var index: Int
    /// The phase's name, or a generated one (`phase 3`, `ramp step 2/10`, the repeat's names with `#cycle`).
    public var name: String
    /// Offset of its start from the scenario's start: the sum of the durations before it, never drifting.
    public var start: Duration
    public var duration: Duration
    /// Every proxy of the scenario, with its state in this phase.
    public var states: [String: ProxyState]
    /// Any proxy impaired at all (a toxic, or an outage).
    public var impaired: Bool
    /// Any proxy disabled.
    public var outage: Bool

    public var end: Duration { self.start + self.duration }

    public init(
        index: Int,
        name: String,
        start: Duration,
        duration: Duration,
        states: [String: ProxyState],
        impaired: Bool,
        outage: Bool
    ) {
        self.index = index
        self.name = name
        self.start = start
        self.duration = duration
        self.states = states
        self.impaired = impaired
        self.outage = outage
    }
}

/// The scenario expanded into phases on a schedule: a finite prefix, then optionally a cycle that repeats until
/// the bound. Phases are computed on demand, so an endless flap needs no memory per cycle.
public struct ScenarioPlan: Sendable, Equatable {
    public var scenario: Scenario
    /// The phases before any endless repeat.
    public var prefix: [PlannedPhase]
    /// The phases of the endless repeat (empty when the timeline is finite), with `start` relative to the
    /// cycle's start and `index` relative to the cycle.
    public var cycle: [PlannedPhase]
    /// When the scenario ends: its bound, or the end of a finite timeline if that is sooner.
    public var end: Duration
    /// Every toxic name the scenario sets on each proxy in some phase (what it manages, and restores).
    public var managedToxics: [String: Set<String>]
    /// The proxies some phase disables (their `enabled` is managed, and restored).
    public var managedEnabled: Set<String>

    /// Expands a validated scenario.
    public init(_ scenario: Scenario) throws(ScenarioError) {
        fatalError("unimplemented")
    }

    /// The phase at `index`, or nil past the end (a phase that would start at or after `end` does not exist;
    /// the last one is cut short at `end`).
    public func phase(at index: Int) -> PlannedPhase? {
        fatalError("unimplemented")
    }

    /// The index of the phase running at `elapsed` since the start, or nil at or after `end`.
    public func phaseIndex(at elapsed: Duration) -> Int? {
        fatalError("unimplemented")
    }

    /// The number of phases, nil for an endless cycle cut by the bound only (then `phaseIndex(at:)` tells).
    public var phaseCount: Int? {
        fatalError("unimplemented")
    }
}
