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
/// the bound. Phases are computed on demand from the timeline's structure, so neither an endless flap nor a
/// `repeat: 100000` needs memory per phase.
public struct ScenarioPlan: Sendable, Equatable {
    public var scenario: Scenario
    /// The timeline before any endless repeat.
    var head: PlanSequence
    /// The body of the endless repeat, if the timeline ends with one.
    var endless: PlanSequence?
    /// When the scenario ends: its bound, or the end of a finite timeline if that is sooner.
    public var end: Duration
    /// The whole timeline's length; nil when it repeats forever. The scenario completes when this is not
    /// longer than its bound, otherwise the bound cuts it.
    public var timelineLength: Duration?
    /// Every toxic name the scenario sets on each proxy in some phase (what it manages, and restores). Every
    /// proxy of the scenario has an entry.
    public var managedToxics: [String: Set<String>]
    /// The proxies some phase disables (their `enabled` is managed, and restored).
    public var managedEnabled: Set<String>
    private var count: Int

    /// Expands a scenario (validating it first, which fills in its bound).
    public init(_ scenario: Scenario) throws(ScenarioError) {
        let scenario = try scenario.validated()
        self.scenario = scenario
        var builder = PlanBuilder(scenario: scenario)
        var headItems = scenario.timeline
        var endlessItems: [TimelineItem]?
        if case .repeatBlock(nil, let items) = headItems.last {
            headItems.removeLast()
            endlessItems = items
        }
        self.head = builder.sequence(headItems)
        self.endless = endlessItems.map { builder.sequence($0) }
        self.timelineLength = TimelineLength.of(scenario.timeline)
        // validated() always fills the bound.
        let bound = scenario.bound ?? Scenario.maximumBound
        self.end = min(bound, self.timelineLength ?? bound)
        self.managedToxics = builder.managedToxics
        self.managedEnabled = builder.managedEnabled
        self.count = 0
        // The last phase is the one running just before the end.
        let justBeforeEnd = self.end - Duration(secondsComponent: 0, attosecondsComponent: 1)
        self.count = (self.locate(time: justBeforeEnd).map { $0.index } ?? -1) + 1
        // Every applied phase stays in the run's history and report, so their number bounds a run's memory.
        guard self.count <= Self.maximumPhaseCount else {
            throw .invalid(
                "for",
                "the scenario would run \(self.count) phases; at most \(Self.maximumPhaseCount) (make the phases "
                    + "longer or `for` shorter)"
            )
        }
    }

    /// The most phases one run may have.
    public static let maximumPhaseCount = 100_000

    /// The phases before any endless repeat that start before `end`. Materialised on each call: meant for
    /// tests and short timelines; use `phase(at:)` to walk long ones.
    public var prefix: [PlannedPhase] {
        (0..<min(self.head.count, self.count)).compactMap { self.phase(at: $0) }
    }

    /// The phases of the endless repeat (empty when the timeline is finite), with `start` relative to the
    /// cycle's start, `index` relative to the cycle, and the names of its first cycle. Materialised on each
    /// call, like `prefix`.
    public var cycle: [PlannedPhase] {
        guard let endless = self.endless else { return [] }
        return (0..<endless.count).map { index in
            let found = endless.locate(index: index)
            return self.planned(found.leaf, index: index, start: found.start, cycles: [1] + found.cycles, cut: false)
        }
    }

    /// The phase at `index`, or nil past the end (a phase that would start at or after `end` does not exist;
    /// the last one is cut short at `end`).
    public func phase(at index: Int) -> PlannedPhase? {
        guard index >= 0, index < self.count else { return nil }
        if index < self.head.count {
            let found = self.head.locate(index: index)
            return self.planned(found.leaf, index: index, start: found.start, cycles: found.cycles, cut: true)
        }
        guard let endless = self.endless else { return nil }
        let inCycle = index - self.head.count
        let cycle = inCycle / endless.count
        let found = endless.locate(index: inCycle % endless.count)
        let start = self.head.length + endless.length * cycle + found.start
        return self.planned(found.leaf, index: index, start: start, cycles: [cycle + 1] + found.cycles, cut: true)
    }

    /// The index of the phase running at `elapsed` since the start, or nil at or after `end` (and before the
    /// start).
    public func phaseIndex(at elapsed: Duration) -> Int? {
        guard elapsed >= .zero, elapsed < self.end else { return nil }
        return self.locate(time: elapsed)?.index
    }

    /// The number of phases that start before `end` (the last one cut short at `end`). Never nil: an endless
    /// cycle is counted up to the bound too.
    public var phaseCount: Int? {
        self.count
    }

    private func locate(time: Duration) -> (index: Int, leaf: PlanLeaf)? {
        guard time >= .zero else { return nil }
        if time < self.head.length {
            let found = self.head.locate(time: time)
            return (found.index, found.leaf)
        }
        guard let endless = self.endless else { return nil }
        let sinceCycles = time - self.head.length
        let cycle = PlanSequence.whole(sinceCycles, per: endless.length, limit: Int.max)
        let found = endless.locate(time: sinceCycles - endless.length * cycle)
        return (self.head.count + cycle * endless.count + found.index, found.leaf)
    }

    private func planned(_ leaf: PlanLeaf, index: Int, start: Duration, cycles: [Int], cut: Bool) -> PlannedPhase {
        let name: String
        if let base = leaf.name {
            name = cycles.isEmpty ? base : base + " #" + cycles.map(String.init).joined(separator: ".")
        } else {
            name = "phase \(index)"
        }
        let duration = cut ? min(leaf.duration, self.end - start) : leaf.duration
        return PlannedPhase(
            index: index,
            name: name,
            start: start,
            duration: duration,
            states: leaf.states,
            impaired: leaf.impaired,
            outage: leaf.outage
        )
    }
}

extension Impairment {
    /// The toxics this impairment sets on a proxy, with the scenario's names (`fixed_latency_up`, `timeout_down`,
    /// `bandwidth_down`, the `toxics` entries' own): latency, timeout, bandwidth, then the entries.
    public var appliedToxics: [Toxic] {
        var toxics: [Toxic] = []
        if let latency = self.latency {
            for stream in latency.direction.streams {
                var toxic = Toxic(
                    name: ToxicNames.latency(stream),
                    type: .latency,
                    stream: stream.rawValue,
                    direction: stream,
                    toxicity: latency.toxicity
                )
                toxic.attributes["latency"] = latency.milliseconds
                toxic.attributes["jitter"] = latency.jitterMilliseconds
                toxics.append(toxic)
            }
        }
        if let timeout = self.timeout {
            for stream in timeout.direction.streams {
                var toxic = Toxic(
                    name: ToxicNames.timeout(stream),
                    type: .timeout,
                    stream: stream.rawValue,
                    direction: stream,
                    toxicity: timeout.toxicity
                )
                toxic.attributes["timeout"] = timeout.milliseconds
                toxics.append(toxic)
            }
        }
        if let bandwidth = self.bandwidth {
            for stream in bandwidth.direction.streams {
                var toxic = Toxic(
                    name: ToxicNames.bandwidth(stream),
                    type: .bandwidth,
                    stream: stream.rawValue,
                    direction: stream,
                    toxicity: bandwidth.toxicity
                )
                toxic.attributes["rate"] = bandwidth.rate
                toxics.append(toxic)
            }
        }
        return toxics + self.toxics
    }
}

/// One phase of the timeline as written, before repeats place it: its generated name's base and its states.
struct PlanLeaf: Sendable, Equatable {
    /// Nil: the phase is named after its index (`phase 3`).
    var name: String?
    var duration: Duration
    var states: [String: ProxyState]
    var impaired: Bool
    var outage: Bool
}

indirect enum PlanNode: Sendable, Equatable {
    case leaf(PlanLeaf)
    case sequence(PlanSequence)
    /// A finite repeat of its body.
    case repetition(PlanSequence, times: Int)

    var length: Duration {
        switch self {
        case .leaf(let leaf): min(leaf.duration, TimelineLength.cap)
        case .sequence(let sequence): sequence.length
        case .repetition(let body, let times): TimelineLength.times(body.length, times)
        }
    }

    var count: Int {
        switch self {
        case .leaf: 1
        case .sequence(let sequence): sequence.count
        case .repetition(let body, let times): PlanSequence.saturatingTimes(body.count, times)
        }
    }

    func locate(index: Int) -> (leaf: PlanLeaf, start: Duration, cycles: [Int]) {
        switch self {
        case .leaf(let leaf):
            return (leaf, .zero, [])
        case .sequence(let sequence):
            return sequence.locate(index: index)
        case .repetition(let body, _):
            let cycle = index / body.count
            let found = body.locate(index: index % body.count)
            return (found.leaf, body.length * cycle + found.start, [cycle + 1] + found.cycles)
        }
    }

    func locate(time: Duration) -> (leaf: PlanLeaf, index: Int) {
        switch self {
        case .leaf(let leaf):
            return (leaf, 0)
        case .sequence(let sequence):
            let found = sequence.locate(time: time)
            return (found.leaf, found.index)
        case .repetition(let body, let times):
            let cycle = PlanSequence.whole(time, per: body.length, limit: times - 1)
            let found = body.locate(time: time - body.length * cycle)
            return (found.leaf, cycle * body.count + found.index)
        }
    }
}

/// Items in order, with where each starts (in time and in phase count) so lookups are binary searches.
struct PlanSequence: Sendable, Equatable {
    var children: [PlanNode] = []
    var starts: [Duration] = []
    var firstIndices: [Int] = []
    var length: Duration = .zero
    var count = 0

    /// Lengths and counts saturate (see `TimelineLength.cap`); nothing past the bound is ever looked up.
    static let countCap = 1 << 52

    mutating func append(_ node: PlanNode) {
        self.children.append(node)
        self.starts.append(self.length)
        self.firstIndices.append(self.count)
        self.length = min(self.length + node.length, TimelineLength.cap)
        self.count = min(self.count + node.count, Self.countCap)
    }

    static func saturatingTimes(_ count: Int, _ times: Int) -> Int {
        let (product, overflow) = count.multipliedReportingOverflow(by: times)
        return overflow ? Self.countCap : min(product, Self.countCap)
    }

    /// How many whole `length`s fit in `time`, at most `limit`; exact (the floating estimate is corrected).
    static func whole(_ time: Duration, per length: Duration, limit: Int) -> Int {
        guard length > .zero, time > .zero else { return 0 }
        let estimate = time / length
        var cycles = estimate >= Double(limit) ? limit : max(0, Int(estimate))
        while cycles > 0, length * cycles > time { cycles -= 1 }
        while cycles < limit, length * (cycles + 1) <= time { cycles += 1 }
        return cycles
    }

    func locate(index: Int) -> (leaf: PlanLeaf, start: Duration, cycles: [Int]) {
        let child = Self.lastAtOrBefore(index, in: self.firstIndices)
        let found = self.children[child].locate(index: index - self.firstIndices[child])
        return (found.leaf, self.starts[child] + found.start, found.cycles)
    }

    func locate(time: Duration) -> (leaf: PlanLeaf, index: Int) {
        let child = Self.lastAtOrBefore(time, in: self.starts)
        let found = self.children[child].locate(time: time - self.starts[child])
        return (found.leaf, self.firstIndices[child] + found.index)
    }

    /// The position of the last element <= `value` in a sorted array that starts at or below it.
    private static func lastAtOrBefore<T: Comparable>(_ value: T, in sorted: [T]) -> Int {
        var low = 0
        var high = sorted.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if sorted[middle] <= value { low = middle } else { high = middle - 1 }
        }
        return low
    }
}

/// Turns timeline items into plan nodes, collecting what the scenario manages on the way.
struct PlanBuilder {
    let scenario: Scenario
    var managedToxics: [String: Set<String>]
    var managedEnabled: Set<String> = []

    init(scenario: Scenario) {
        self.scenario = scenario
        self.managedToxics = Dictionary(uniqueKeysWithValues: scenario.proxies.map { ($0, []) })
    }

    mutating func sequence(_ items: [TimelineItem]) -> PlanSequence {
        var sequence = PlanSequence()
        for item in items {
            switch item {
            case .phase(let phase):
                sequence.append(.leaf(self.leaf(phase.name, phase.duration, phase.proxies, phase.impairment)))
            case .repeatBlock(let count, let items):
                // Only the top level's last item may repeat forever, and the plan takes that one apart.
                sequence.append(.repetition(self.sequence(items), times: count ?? 1))
            case .ramp(let ramp):
                sequence.append(.sequence(self.steps(of: ramp)))
            }
        }
        return sequence
    }

    /// Step i of n holds from + (to - from) * i / (n - 1), rounded; steps start at duration * i / n so their
    /// lengths add up to the ramp's exactly.
    private mutating func steps(of ramp: RampSpec) -> PlanSequence {
        var steps = PlanSequence()
        let base = ramp.name ?? "ramp"
        for step in 0..<ramp.steps {
            func value(_ values: RampValues) -> Int64 {
                let span = Double(values.to) - Double(values.from)
                return values.from + Int64((span * Double(step) / Double(ramp.steps - 1)).rounded())
            }
            var impairment = Impairment()
            if let latency = ramp.latency {
                impairment.latency = Impairment.Latency(
                    milliseconds: value(latency),
                    jitterMilliseconds: ramp.latencyJitterMilliseconds,
                    direction: ramp.latencyDirection
                )
            }
            if let bandwidth = ramp.bandwidth {
                impairment.bandwidth = Impairment.Bandwidth(rate: value(bandwidth), direction: ramp.bandwidthDirection)
            }
            let start = ramp.duration * step / ramp.steps
            let next = ramp.duration * (step + 1) / ramp.steps
            let name = "\(base) step \(step + 1)/\(ramp.steps)"
            steps.append(.leaf(self.leaf(name, next - start, ramp.proxies, impairment)))
        }
        return steps
    }

    private mutating func leaf(
        _ name: String?,
        _ duration: Duration,
        _ proxies: [String]?,
        _ impairment: Impairment
    ) -> PlanLeaf {
        let impaired = Set(proxies ?? self.scenario.proxies)
        let toxics = impairment.appliedToxics
        var states: [String: ProxyState] = [:]
        for proxy in self.scenario.proxies {
            guard impaired.contains(proxy) else {
                states[proxy] = ProxyState()
                continue
            }
            states[proxy] = ProxyState(enabled: !impairment.outage, toxics: toxics)
            self.managedToxics[proxy, default: []].formUnion(toxics.map(\.name))
            if impairment.outage { self.managedEnabled.insert(proxy) }
        }
        return PlanLeaf(
            name: name,
            duration: duration,
            states: states,
            impaired: !impaired.isEmpty && (impairment.outage || !toxics.isEmpty),
            outage: impairment.outage && !impaired.isEmpty
        )
    }
}
