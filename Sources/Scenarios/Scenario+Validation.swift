import ToxiproxyModel

extension Scenario {
    /// The longest `for`.
    public static let maximumBound: Duration = .seconds(24 * 3600)
    /// The shortest phase (and ramp step): the scheduler cannot hold anything shorter meaningfully.
    public static let minimumPhase: Duration = .milliseconds(1)
    public static let graceRange: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)
    public static let repeatRange: ClosedRange<Int> = 1...100_000
    public static let stepsRange: ClosedRange<Int> = 2...1000

    func validate() throws(ScenarioError) -> Scenario {
        var scenario = self
        if let name, name.isEmpty {
            throw .invalid("name", "must not be empty (leave it out for none)")
        }
        try Self.validateProxyList(self.proxies, path: "proxies", among: nil)
        if let bound {
            guard bound > .zero, bound <= Self.maximumBound else {
                throw .invalid("for", "must be a duration > 0 and at most 24h, got \(DurationText.format(bound))")
            }
        }
        if case .heartbeat(let grace) = self.lease, !Self.graceRange.contains(grace) {
            throw .invalid("lease.grace", "must be a duration from 1s to 1h, got \(DurationText.format(grace))")
        }
        guard !self.timeline.isEmpty else {
            throw .invalid("timeline", "must have at least one phase")
        }
        for (index, item) in self.timeline.enumerated() {
            try self.validate(item, path: "timeline[\(index)]", foreverAllowed: index == self.timeline.count - 1)
        }
        guard let length = TimelineLength.of(self.timeline) else {
            guard self.bound != nil else {
                throw .invalid("for", "required when the timeline repeats forever (at most 24h)")
            }
            return scenario
        }
        if self.bound == nil {
            guard length <= Self.maximumBound else {
                throw .invalid(
                    "for",
                    "required when the timeline lasts more than 24h (it lasts \(TimelineLength.describe(length)))"
                )
            }
            scenario.bound = length
        }
        return scenario
    }

    /// Non-empty names, no duplicates, and (for a phase's subset) only the scenario's own proxies.
    private static func validateProxyList(_ proxies: [String], path: String, among: [String]?) throws(ScenarioError) {
        guard !proxies.isEmpty else {
            throw .invalid(
                path,
                among == nil ? "must list at least one proxy" : "must list at least one proxy (leave it out for all)"
            )
        }
        var seen: Set<String> = []
        for (index, proxy) in proxies.enumerated() {
            let proxyPath = "\(path)[\(index)]"
            guard !proxy.isEmpty else { throw .invalid(proxyPath, "must be a proxy name, got \"\"") }
            if let among, !among.contains(proxy) {
                throw .invalid(
                    proxyPath,
                    "must be one of the scenario's proxies (\(among.joined(separator: ", "))), got \(ScenarioDecoding.quoted(proxy))"
                )
            }
            guard seen.insert(proxy).inserted else {
                throw .invalid(proxyPath, "\(ScenarioDecoding.quoted(proxy)) is listed twice")
            }
        }
    }

    private func validate(_ item: TimelineItem, path: String, foreverAllowed: Bool) throws(ScenarioError) {
        switch item {
        case .phase(let phase):
            try self.validate(phase, path: path)
        case .ramp(let ramp):
            try self.validate(ramp, path: path + ".ramp")
        case .repeatBlock(let count, let items):
            let countPath = path + ".repeat"
            if let count {
                guard Self.repeatRange.contains(count) else {
                    throw .invalid(countPath, ScenarioDecoding.repeatReason + ", got \(count)")
                }
            } else if !foreverAllowed {
                throw .invalid(
                    countPath,
                    "forever is only allowed on the last item of the timeline (not inside a repeat)"
                )
            }
            guard !items.isEmpty else {
                throw .invalid(countPath + ".phases", "must have at least one phase")
            }
            for (index, inner) in items.enumerated() {
                try self.validate(inner, path: "\(countPath).phases[\(index)]", foreverAllowed: false)
            }
        }
    }

    private func validate(_ phase: PhaseSpec, path: String) throws(ScenarioError) {
        if let name = phase.name, name.isEmpty {
            throw .invalid(path + ".name", "must not be empty (leave it out for a generated one)")
        }
        try Self.validatePhaseDuration(phase.duration, path: path + ".duration")
        if let proxies = phase.proxies {
            try Self.validateProxyList(proxies, path: path + ".proxies", among: self.proxies)
        }
        let impairment = phase.impairment
        // Every toxic name the phase sets, with the field that sets it, so a clash names both.
        var names: [String: String] = [:]
        func claim(_ name: String, by field: String) throws(ScenarioError) {
            if let other = names[name] {
                throw .invalid(
                    "\(path).\(field)",
                    "the toxic name \(ScenarioDecoding.quoted(name)) is already used in this phase by \(other)"
                )
            }
            names[name] = field
        }
        if let latency = impairment.latency {
            let latencyPath = path + ".latency"
            try Self.validateNonNegative(
                latency.milliseconds,
                path: latencyPath + ".ms",
                reason: ScenarioDecoding.msReason
            )
            guard latency.jitterMilliseconds >= 0, latency.jitterMilliseconds <= latency.milliseconds else {
                throw .invalid(
                    latencyPath + ".jitter",
                    "must be a whole number of milliseconds from 0 to ms (\(latency.milliseconds)), got \(latency.jitterMilliseconds)"
                )
            }
            try Self.validateToxicity(latency.toxicity, path: latencyPath + ".toxicity")
            for stream in latency.direction.streams {
                try claim(ToxicNames.latency(stream), by: "latency")
            }
        }
        if let timeout = impairment.timeout {
            let timeoutPath = path + ".timeout"
            try Self.validateNonNegative(
                timeout.milliseconds,
                path: timeoutPath + ".ms",
                reason: ScenarioDecoding.msReason
            )
            try Self.validateToxicity(timeout.toxicity, path: timeoutPath + ".toxicity")
            for stream in timeout.direction.streams {
                try claim(ToxicNames.timeout(stream), by: "timeout")
            }
        }
        if let bandwidth = impairment.bandwidth {
            let bandwidthPath = path + ".bandwidth"
            try Self.validateNonNegative(
                bandwidth.rate,
                path: bandwidthPath + ".rate",
                reason: ScenarioDecoding.rateReason
            )
            try Self.validateToxicity(bandwidth.toxicity, path: bandwidthPath + ".toxicity")
            for stream in bandwidth.direction.streams {
                try claim(ToxicNames.bandwidth(stream), by: "bandwidth")
            }
        }
        for (index, toxic) in impairment.toxics.enumerated() {
            let toxicPath = "\(path).toxics[\(index)]"
            try Self.validate(toxic, path: toxicPath)
            try claim(toxic.name, by: "toxics[\(index)]")
        }
    }

    /// A toxic as the server would take it: a registered type, its own attribute names with values >= 0, a
    /// stream of upstream or downstream, a toxicity in 0...1.
    private static func validate(_ toxic: Toxic, path: String) throws(ScenarioError) {
        guard !toxic.name.isEmpty else {
            throw .invalid(path + ".name", "must not be empty (leave it out for scenario_TYPE_STREAM)")
        }
        guard ToxicType.named(toxic.type.name) == toxic.type else {
            throw .invalid(
                path + ".type",
                "must be one of \(ScenarioDecoding.typeNames), got \(ScenarioDecoding.quoted(toxic.type.name))"
            )
        }
        guard toxic.stream == toxic.direction.rawValue else {
            throw .invalid(
                path + ".stream",
                "must be upstream or downstream, got \(ScenarioDecoding.quoted(toxic.stream))"
            )
        }
        try Self.validateToxicity(toxic.toxicity, path: path + ".toxicity")
        guard toxic.attributes.values.map(\.name) == toxic.type.attributeNames else {
            throw .invalid(
                path + ".attributes",
                "must be the attributes of \(toxic.type.name) (\(toxic.type.attributeNames.joined(separator: ", ")))"
            )
        }
        for attribute in toxic.attributes.values {
            try Self.validateNonNegative(
                attribute.value,
                path: "\(path).attributes.\(attribute.name)",
                reason: ScenarioDecoding.attributeReason
            )
        }
    }

    private func validate(_ ramp: RampSpec, path: String) throws(ScenarioError) {
        if let name = ramp.name, name.isEmpty {
            throw .invalid(path + ".name", "must not be empty (leave it out for a generated one)")
        }
        try Self.validatePhaseDuration(ramp.duration, path: path + ".duration")
        guard Self.stepsRange.contains(ramp.steps) else {
            throw .invalid(path + ".steps", ScenarioDecoding.stepsReason + ", got \(ramp.steps)")
        }
        guard ramp.duration / ramp.steps >= Self.minimumPhase else {
            throw .invalid(
                path + ".duration",
                "must give each of the \(ramp.steps) steps at least 1ms, got \(DurationText.format(ramp.duration))"
            )
        }
        if let proxies = ramp.proxies {
            try Self.validateProxyList(proxies, path: path + ".proxies", among: self.proxies)
        }
        guard ramp.latency != nil || ramp.bandwidth != nil else {
            throw .invalid(path, "must ramp latency, bandwidth or both")
        }
        if let latency = ramp.latency {
            let latencyPath = path + ".latency"
            try Self.validateNonNegative(latency.from, path: latencyPath + ".from", reason: ScenarioDecoding.msReason)
            try Self.validateNonNegative(latency.to, path: latencyPath + ".to", reason: ScenarioDecoding.msReason)
            let lowest = min(latency.from, latency.to)
            guard ramp.latencyJitterMilliseconds >= 0, ramp.latencyJitterMilliseconds <= lowest else {
                throw .invalid(
                    latencyPath + ".jitter",
                    "must be a whole number of milliseconds from 0 to the lowest latency (\(lowest)), got \(ramp.latencyJitterMilliseconds)"
                )
            }
        }
        if let bandwidth = ramp.bandwidth {
            let bandwidthPath = path + ".bandwidth"
            try Self.validateNonNegative(
                bandwidth.from,
                path: bandwidthPath + ".from",
                reason: ScenarioDecoding.rateReason
            )
            try Self.validateNonNegative(bandwidth.to, path: bandwidthPath + ".to", reason: ScenarioDecoding.rateReason)
        }
    }

    private static func validatePhaseDuration(_ duration: Duration, path: String) throws(ScenarioError) {
        guard duration >= Self.minimumPhase else {
            throw .invalid(path, "must be a duration of at least 1ms, got \(DurationText.format(duration))")
        }
    }

    private static func validateNonNegative(_ value: Int64, path: String, reason: String) throws(ScenarioError) {
        guard value >= 0 else { throw .invalid(path, "\(reason), got \(value)") }
    }

    private static func validateToxicity(_ toxicity: Float, path: String) throws(ScenarioError) {
        guard toxicity >= 0, toxicity <= 1 else {
            throw .invalid(path, "\(ScenarioDecoding.toxicityReason), got \(toxicity)")
        }
    }
}

/// The names the scenario gives its toxics, so `toxictl status` shows the same names as toxictl's own verbs.
enum ToxicNames {
    static func latency(_ stream: StreamDirection) -> String {
        stream == .upstream ? "fixed_latency_up" : "fixed_latency_down"
    }

    static func timeout(_ stream: StreamDirection) -> String {
        stream == .upstream ? "timeout_up" : "timeout_down"
    }

    static func bandwidth(_ stream: StreamDirection) -> String {
        stream == .upstream ? "bandwidth_up" : "bandwidth_down"
    }
}

/// Timeline lengths, saturating far beyond any bound, so nested repeats of 100000 cannot overflow.
enum TimelineLength {
    /// Longer than any scenario may run; lengths stop growing here.
    static let cap: Duration = .seconds(10 * 366 * 24 * 3600)

    /// The length of the items, nil when one repeats forever.
    static func of(_ items: [TimelineItem]) -> Duration? {
        var total: Duration = .zero
        for item in items {
            guard let length = Self.of(item) else { return nil }
            total = min(total + length, Self.cap)
        }
        return total
    }

    static func of(_ item: TimelineItem) -> Duration? {
        switch item {
        case .phase(let phase): return min(phase.duration, Self.cap)
        case .ramp(let ramp): return min(ramp.duration, Self.cap)
        case .repeatBlock(let count, let items):
            guard let count, let body = Self.of(items) else { return nil }
            return Self.times(body, count)
        }
    }

    static func times(_ length: Duration, _ count: Int) -> Duration {
        guard count > 0 else { return .zero }
        // length <= cap and cap * count does not overflow Duration's 128 bits below 10^11 repetitions.
        if count > 100_000_000_000 || length > Self.cap / count { return Self.cap }
        return min(length * count, Self.cap)
    }

    static func describe(_ length: Duration) -> String {
        length >= Self.cap ? "more than 10 years" : DurationText.format(length)
    }
}
