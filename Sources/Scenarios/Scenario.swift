import ToxiproxyModel

/// A timeline of impairment phases over one or more proxies, as a scenario file describes it (see
/// the README's "Scenarios" section for the file format). Validated on creation: every value here is in range.
public struct Scenario: Sendable, Equatable {
    /// A label for people; the server gives each run an id of its own.
    public var name: String?
    /// The proxies the scenario impairs (at least one, no duplicates).
    public var proxies: [String]
    /// The hard bound (`for`): the scenario ends and restores after this long, whatever its timeline says.
    /// Nil in a file means "the length of the timeline"; `validated()` fills it in (a timeline that repeats
    /// forever needs an explicit one).
    public var bound: Duration?
    /// How the scenario's life is tied to the operator that started it.
    public var lease: Lease
    /// The phases, in order.
    public var timeline: [TimelineItem]

    public init(
        name: String? = nil,
        proxies: [String],
        bound: Duration? = nil,
        lease: Lease = .heartbeat(grace: Lease.defaultGrace),
        timeline: [TimelineItem]
    ) {
        self.name = name
        self.proxies = proxies
        self.bound = bound
        self.lease = lease
        self.timeline = timeline
    }
}

/// Whether a scenario must be renewed by heartbeats to keep running.
public enum Lease: Sendable, Equatable {
    /// The scenario stops and restores when no heartbeat came for `grace`.
    case heartbeat(grace: Duration)
    /// No heartbeats: only the hard bound (`for`) ends it (`lease: none` in a file; toxictl `--detach`).
    case none

    public static let defaultGrace: Duration = .seconds(30)
}

/// One entry of a timeline.
public indirect enum TimelineItem: Sendable, Equatable {
    case phase(PhaseSpec)
    /// `count` times the items in order; nil repeats until the scenario's bound (only as the last top-level
    /// item).
    case repeatBlock(count: Int?, items: [TimelineItem])
    case ramp(RampSpec)
}

/// One phase: an impairment state held for a duration.
public struct PhaseSpec: Sendable, Equatable {
    public var name: String?
    public var duration: Duration
    /// The proxies this phase impairs; nil means all of the scenario's proxies. The others are healthy.
    public var proxies: [String]?
    public var impairment: Impairment

    public init(name: String? = nil, duration: Duration, proxies: [String]? = nil, impairment: Impairment = .healthy) {
        self.name = name
        self.duration = duration
        self.proxies = proxies
        self.impairment = impairment
    }
}

/// A stepwise change of latency and/or bandwidth: `steps` phases of `duration / steps` each, values spread
/// linearly from `from` to `to`, both included (one step holds `from`).
public struct RampSpec: Sendable, Equatable {
    public var name: String?
    public var duration: Duration
    public var steps: Int
    public var proxies: [String]?
    /// Latency in milliseconds, with a fixed jitter and direction.
    public var latency: RampValues?
    public var latencyJitterMilliseconds: Int64
    public var latencyDirection: ScenarioDirection
    /// Bandwidth in KB/s.
    public var bandwidth: RampValues?
    public var bandwidthDirection: ScenarioDirection

    public init(
        name: String? = nil,
        duration: Duration,
        steps: Int,
        proxies: [String]? = nil,
        latency: RampValues? = nil,
        latencyJitterMilliseconds: Int64 = 0,
        latencyDirection: ScenarioDirection = .upstream,
        bandwidth: RampValues? = nil,
        bandwidthDirection: ScenarioDirection = .downstream
    ) {
        self.name = name
        self.duration = duration
        self.steps = steps
        self.proxies = proxies
        self.latency = latency
        self.latencyJitterMilliseconds = latencyJitterMilliseconds
        self.latencyDirection = latencyDirection
        self.bandwidth = bandwidth
        self.bandwidthDirection = bandwidthDirection
    }
}

public struct RampValues: Sendable, Equatable {
    public var from: Int64
    public var to: Int64

    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}

/// `up`, `down` or `both`, as in toxictl; `upstream`/`downstream` are accepted in files too.
public enum ScenarioDirection: String, Sendable, Equatable, CaseIterable {
    case upstream = "up"
    case downstream = "down"
    case both

    public var streams: [StreamDirection] {
        switch self {
        case .upstream: [.upstream]
        case .downstream: [.downstream]
        case .both: [.upstream, .downstream]
        }
    }
}

/// The impairment state of one proxy during a phase. Everything absent is healthy.
public struct Impairment: Sendable, Equatable {
    public struct Latency: Sendable, Equatable {
        public var milliseconds: Int64
        public var jitterMilliseconds: Int64
        public var direction: ScenarioDirection
        public var toxicity: Float

        public init(
            milliseconds: Int64,
            jitterMilliseconds: Int64 = 0,
            direction: ScenarioDirection = .upstream,
            toxicity: Float = 1
        ) {
            self.milliseconds = milliseconds
            self.jitterMilliseconds = jitterMilliseconds
            self.direction = direction
            self.toxicity = toxicity
        }
    }

    public struct Timeout: Sendable, Equatable {
        /// 0: data is held forever (the connection hangs); otherwise the connection closes after this long.
        public var milliseconds: Int64
        public var direction: ScenarioDirection
        public var toxicity: Float

        public init(milliseconds: Int64, direction: ScenarioDirection = .both, toxicity: Float = 1) {
            self.milliseconds = milliseconds
            self.direction = direction
            self.toxicity = toxicity
        }
    }

    public struct Bandwidth: Sendable, Equatable {
        /// KB/s.
        public var rate: Int64
        public var direction: ScenarioDirection
        public var toxicity: Float

        public init(rate: Int64, direction: ScenarioDirection = .downstream, toxicity: Float = 1) {
            self.rate = rate
            self.direction = direction
            self.toxicity = toxicity
        }
    }

    public var latency: Latency?
    public var timeout: Timeout?
    public var bandwidth: Bandwidth?
    /// The proxy is disabled: its listener is closed, live connections are cut, new ones are refused.
    public var outage: Bool
    /// Any other toxic, with its name (default `scenario_<type>_<stream>`), attributes and toxicity.
    public var toxics: [Toxic]

    public init(
        latency: Latency? = nil,
        timeout: Timeout? = nil,
        bandwidth: Bandwidth? = nil,
        outage: Bool = false,
        toxics: [Toxic] = []
    ) {
        self.latency = latency
        self.timeout = timeout
        self.bandwidth = bandwidth
        self.outage = outage
        self.toxics = toxics
    }

    public static let healthy = Impairment()

    public var isHealthy: Bool { self == .healthy }
}
