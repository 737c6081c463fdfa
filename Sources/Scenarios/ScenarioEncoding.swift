import ToxiproxyModel

/// The scenario as JSON, in the file format's own words, so `ScenarioDecoding` reads it back equal.
enum ScenarioEncoding {
    static func scenario(_ scenario: Scenario) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        if let name = scenario.name { members.append(("name", .string(name))) }
        members.append(("proxies", .array(scenario.proxies.map { .string($0) })))
        if let bound = scenario.bound { members.append(("for", Self.duration(bound))) }
        switch scenario.lease {
        case .none: members.append(("lease", .string("none")))
        case .heartbeat(let grace): members.append(("lease", .object(JSONObject([("grace", Self.duration(grace))]))))
        }
        members.append(("timeline", .array(scenario.timeline.map(Self.item))))
        return .object(JSONObject(members))
    }

    private static func item(_ item: TimelineItem) -> JSONValue {
        switch item {
        case .phase(let phase):
            return Self.phase(phase)
        case .repeatBlock(let count, let items):
            return .object(
                JSONObject([
                    ("repeat", count.map { .number(String($0)) } ?? .string("forever")),
                    ("phases", .array(items.map(Self.item))),
                ])
            )
        case .ramp(let ramp):
            return .object(JSONObject([("ramp", Self.ramp(ramp))]))
        }
    }

    private static func phase(_ phase: PhaseSpec) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        if let name = phase.name { members.append(("name", .string(name))) }
        members.append(("duration", Self.duration(phase.duration)))
        if let proxies = phase.proxies { members.append(("proxies", .array(proxies.map { .string($0) }))) }
        let impairment = phase.impairment
        if let latency = impairment.latency {
            members.append(
                (
                    "latency",
                    .object(
                        JSONObject([
                            ("ms", .integer(latency.milliseconds)),
                            ("jitter", .integer(latency.jitterMilliseconds)),
                            ("direction", .string(latency.direction.rawValue)),
                            ("toxicity", Self.float(latency.toxicity)),
                        ])
                    )
                )
            )
        }
        if let timeout = impairment.timeout {
            members.append(
                (
                    "timeout",
                    .object(
                        JSONObject([
                            ("ms", .integer(timeout.milliseconds)),
                            ("direction", .string(timeout.direction.rawValue)),
                            ("toxicity", Self.float(timeout.toxicity)),
                        ])
                    )
                )
            )
        }
        if let bandwidth = impairment.bandwidth {
            members.append(
                (
                    "bandwidth",
                    .object(
                        JSONObject([
                            ("rate", .integer(bandwidth.rate)),
                            ("direction", .string(bandwidth.direction.rawValue)),
                            ("toxicity", Self.float(bandwidth.toxicity)),
                        ])
                    )
                )
            )
        }
        if impairment.outage { members.append(("outage", .bool(true))) }
        if !impairment.toxics.isEmpty {
            members.append(("toxics", .array(impairment.toxics.map(Self.toxic))))
        }
        return .object(JSONObject(members))
    }

    private static func toxic(_ toxic: Toxic) -> JSONValue {
        .object(
            JSONObject([
                ("name", .string(toxic.name)),
                ("type", .string(toxic.type.name)),
                ("stream", .string(toxic.stream)),
                ("toxicity", Self.float(toxic.toxicity)),
                ("attributes", .object(JSONObject(toxic.attributes.values.map { ($0.name, .integer($0.value)) }))),
            ])
        )
    }

    private static func ramp(_ ramp: RampSpec) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        if let name = ramp.name { members.append(("name", .string(name))) }
        members.append(("duration", Self.duration(ramp.duration)))
        members.append(("steps", .integer(Int64(ramp.steps))))
        if let proxies = ramp.proxies { members.append(("proxies", .array(proxies.map { .string($0) }))) }
        if let latency = ramp.latency {
            members.append(
                (
                    "latency",
                    .object(
                        JSONObject([
                            ("from", .integer(latency.from)),
                            ("to", .integer(latency.to)),
                            ("jitter", .integer(ramp.latencyJitterMilliseconds)),
                            ("direction", .string(ramp.latencyDirection.rawValue)),
                        ])
                    )
                )
            )
        }
        if let bandwidth = ramp.bandwidth {
            members.append(
                (
                    "bandwidth",
                    .object(
                        JSONObject([
                            ("from", .integer(bandwidth.from)),
                            ("to", .integer(bandwidth.to)),
                            ("direction", .string(ramp.bandwidthDirection.rawValue)),
                        ])
                    )
                )
            )
        }
        return .object(JSONObject(members))
    }

    private static func duration(_ duration: Duration) -> JSONValue {
        .string(DurationText.format(duration))
    }

    /// Swift's shortest round-trip spelling, which `Float(_:)` reads back to the same value.
    private static func float(_ value: Float) -> JSONValue {
        .number(value.description)
    }
}
