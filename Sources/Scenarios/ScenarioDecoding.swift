import ToxiproxyModel

/// Reads a parsed scenario document into the model. It checks shapes and types (and the words a field may
/// hold); ranges are `validated()`'s, so a scenario built in code is held to the same rules.
enum ScenarioDecoding {
    static func scenario(_ value: JSONValue) throws(ScenarioError) -> Scenario {
        var fields = try Fields(
            value,
            path: "",
            what: "a scenario",
            allowed: ["name", "proxies", "for", "lease", "timeline"]
        )
        let name = try fields.take("name").map { v throws(ScenarioError) in try Self.string(v, fields.path("name")) }
        guard let proxiesValue = fields.take("proxies") else {
            throw .invalid("proxies", "required: the list of proxies the scenario impairs")
        }
        let proxies = try Self.stringList(proxiesValue, "proxies", what: "proxy names")
        let bound = try fields.take("for").map { v throws(ScenarioError) in try Self.duration(v, "for") }
        let lease = try fields.take("lease").map { v throws(ScenarioError) in try Self.lease(v) }
        guard let timelineValue = fields.take("timeline") else {
            throw .invalid("timeline", "required: the list of phases")
        }
        guard case .array(let elements) = timelineValue else {
            throw .invalid("timeline", "must be a list of phases, got \(Self.given(timelineValue))")
        }
        var timeline: [TimelineItem] = []
        for (index, element) in elements.enumerated() {
            timeline.append(try Self.item(element, path: "timeline[\(index)]"))
        }
        return Scenario(
            name: name,
            proxies: proxies,
            bound: bound,
            lease: lease ?? .heartbeat(grace: Lease.defaultGrace),
            timeline: timeline
        )
    }

    private static func lease(_ value: JSONValue) throws(ScenarioError) -> Lease {
        if case .string("none") = value { return .none }
        guard case .object = value else {
            throw .invalid("lease", "must be none or {grace: DURATION}, got \(Self.given(value))")
        }
        var fields = try Fields(value, path: "lease", what: "a lease", allowed: ["grace"])
        let grace = try fields.take("grace").map { v throws(ScenarioError) in try Self.duration(v, "lease.grace") }
        return .heartbeat(grace: grace ?? Lease.defaultGrace)
    }

    // MARK: - Timeline

    private static func item(_ value: JSONValue, path: String) throws(ScenarioError) -> TimelineItem {
        guard case .object(let object) = value else {
            throw .invalid(path, "must be a phase, a repeat or a ramp (a mapping), got \(Self.given(value))")
        }
        let keys = Set(object.members.map(\.key))
        if keys.contains("repeat") {
            return try Self.repeatBlock(value, path: path)
        }
        if keys.contains("ramp") {
            var fields = try Fields(value, path: path, what: "a ramp", allowed: ["ramp"])
            guard let ramp = fields.take("ramp") else {
                throw .invalid(fields.path("ramp"), "must be a ramp (a mapping), got null")
            }
            return .ramp(try Self.ramp(ramp, path: fields.path("ramp")))
        }
        return .phase(try Self.phase(value, path: path))
    }

    private static func repeatBlock(_ value: JSONValue, path: String) throws(ScenarioError) -> TimelineItem {
        var fields = try Fields(value, path: path, what: "a repeat", allowed: ["repeat", "phases"])
        let countPath = fields.path("repeat")
        let countValue = fields.take("repeat")
        let count: Int?
        switch countValue {
        case .string("forever"):
            count = nil
        case .some(let v):
            count = Int(try Self.integer(v, countPath, reason: Self.repeatReason))
        case nil:
            throw .invalid(countPath, Self.repeatReason + ", got null")
        }
        let phasesPath = countPath + ".phases"
        guard let phasesValue = fields.take("phases") else {
            throw .invalid(phasesPath, "required: the phases to repeat")
        }
        guard case .array(let elements) = phasesValue else {
            throw .invalid(phasesPath, "must be a list of phases, got \(Self.given(phasesValue))")
        }
        var items: [TimelineItem] = []
        for (index, element) in elements.enumerated() {
            items.append(try Self.item(element, path: "\(phasesPath)[\(index)]"))
        }
        return .repeatBlock(count: count, items: items)
    }

    static let repeatReason = "must be a whole number from 1 to 100000, or forever"

    private static func phase(_ value: JSONValue, path: String) throws(ScenarioError) -> PhaseSpec {
        var fields = try Fields(
            value,
            path: path,
            what: "a phase",
            allowed: ["name", "duration", "proxies", "latency", "timeout", "bandwidth", "outage", "toxics"]
        )
        let name = try fields.take("name").map { v throws(ScenarioError) in try Self.string(v, fields.path("name")) }
        guard let durationValue = fields.take("duration") else {
            throw .invalid(fields.path("duration"), "required: how long the phase lasts, like 15s")
        }
        let duration = try Self.duration(durationValue, fields.path("duration"))
        let proxies = try fields.take("proxies").map { v throws(ScenarioError) in
            try Self.stringList(v, fields.path("proxies"), what: "proxy names")
        }
        var impairment = Impairment()
        if let v = fields.take("latency") {
            impairment.latency = try Self.latency(v, path: fields.path("latency"))
        }
        if let v = fields.take("timeout") {
            impairment.timeout = try Self.timeout(v, path: fields.path("timeout"))
        }
        if let v = fields.take("bandwidth") {
            impairment.bandwidth = try Self.bandwidth(v, path: fields.path("bandwidth"))
        }
        if let v = fields.take("outage") {
            impairment.outage = try Self.bool(v, fields.path("outage"))
        }
        if let v = fields.take("toxics") {
            let listPath = fields.path("toxics")
            guard case .array(let elements) = v else {
                throw .invalid(listPath, "must be a list of toxics, got \(Self.given(v))")
            }
            for (index, element) in elements.enumerated() {
                impairment.toxics.append(try Self.toxic(element, path: "\(listPath)[\(index)]"))
            }
        }
        return PhaseSpec(name: name, duration: duration, proxies: proxies, impairment: impairment)
    }

    private static func latency(_ value: JSONValue, path: String) throws(ScenarioError) -> Impairment.Latency {
        var fields = try Fields(
            value,
            path: path,
            what: "a latency",
            allowed: ["ms", "jitter", "direction", "toxicity"]
        )
        guard let ms = fields.take("ms") else {
            throw .invalid(fields.path("ms"), "required: the delay in milliseconds")
        }
        var latency = Impairment.Latency(milliseconds: try Self.integer(ms, fields.path("ms"), reason: Self.msReason))
        if let v = fields.take("jitter") {
            latency.jitterMilliseconds = try Self.integer(v, fields.path("jitter"), reason: Self.msReason)
        }
        if let v = fields.take("direction") { latency.direction = try Self.direction(v, fields.path("direction")) }
        if let v = fields.take("toxicity") { latency.toxicity = try Self.toxicity(v, fields.path("toxicity")) }
        return latency
    }

    private static func timeout(_ value: JSONValue, path: String) throws(ScenarioError) -> Impairment.Timeout {
        var fields = try Fields(value, path: path, what: "a timeout", allowed: ["ms", "direction", "toxicity"])
        guard let ms = fields.take("ms") else {
            throw .invalid(fields.path("ms"), "required: milliseconds until the connection closes (0: it hangs)")
        }
        var timeout = Impairment.Timeout(milliseconds: try Self.integer(ms, fields.path("ms"), reason: Self.msReason))
        if let v = fields.take("direction") { timeout.direction = try Self.direction(v, fields.path("direction")) }
        if let v = fields.take("toxicity") { timeout.toxicity = try Self.toxicity(v, fields.path("toxicity")) }
        return timeout
    }

    private static func bandwidth(_ value: JSONValue, path: String) throws(ScenarioError) -> Impairment.Bandwidth {
        var fields = try Fields(value, path: path, what: "a bandwidth", allowed: ["rate", "direction", "toxicity"])
        guard let rate = fields.take("rate") else {
            throw .invalid(fields.path("rate"), "required: the rate in KB/s")
        }
        var bandwidth = Impairment.Bandwidth(rate: try Self.integer(rate, fields.path("rate"), reason: Self.rateReason))
        if let v = fields.take("direction") { bandwidth.direction = try Self.direction(v, fields.path("direction")) }
        if let v = fields.take("toxicity") { bandwidth.toxicity = try Self.toxicity(v, fields.path("toxicity")) }
        return bandwidth
    }

    static let msReason = "must be a whole number of milliseconds >= 0"
    static let rateReason = "must be a whole number of KB/s >= 0"
    static let attributeReason = "must be a whole number >= 0"
    static let toxicityReason = "must be a number from 0 to 1"

    private static func toxic(_ value: JSONValue, path: String) throws(ScenarioError) -> Toxic {
        var fields = try Fields(
            value,
            path: path,
            what: "a toxic",
            allowed: ["name", "type", "stream", "toxicity", "attributes"]
        )
        guard let typeValue = fields.take("type") else {
            throw .invalid(fields.path("type"), "required: one of \(Self.typeNames)")
        }
        let typeName = try Self.string(typeValue, fields.path("type"))
        guard let type = ToxicType.named(typeName) else {
            throw .invalid(fields.path("type"), "must be one of \(Self.typeNames), got \(Self.given(typeValue))")
        }
        var direction = StreamDirection.downstream
        if let v = fields.take("stream") {
            guard case .string(let text) = v, let parsed = StreamDirection(rawValue: text) else {
                throw .invalid(fields.path("stream"), "must be upstream or downstream, got \(Self.given(v))")
            }
            direction = parsed
        }
        let name = try fields.take("name").map { v throws(ScenarioError) in try Self.string(v, fields.path("name")) }
        var toxic = Toxic(
            name: name ?? "scenario_\(type.name)_\(direction.rawValue)",
            type: type,
            stream: direction.rawValue,
            direction: direction
        )
        if let v = fields.take("toxicity") { toxic.toxicity = try Self.toxicity(v, fields.path("toxicity")) }
        if let v = fields.take("attributes") {
            let attributesPath = fields.path("attributes")
            guard case .object = v else {
                throw .invalid(attributesPath, "must be a mapping of attribute names to numbers, got \(Self.given(v))")
            }
            var attributes = try Fields(v, path: attributesPath, what: "attributes", allowed: nil)
            for key in attributes.keys {
                let attributePath = attributes.path(key)
                guard type.attributeNames.contains(key) else {
                    let names = type.attributeNames.isEmpty ? "none" : type.attributeNames.joined(separator: ", ")
                    throw .invalid(attributePath, "not an attribute of \(type.name) (it has \(names))")
                }
                let number = try Self.integer(attributes.take(key)!, attributePath, reason: Self.attributeReason)
                toxic.attributes[key] = number
            }
        }
        return toxic
    }

    static var typeNames: String { ToxicType.registered.map(\.name).joined(separator: ", ") }

    private static func ramp(_ value: JSONValue, path: String) throws(ScenarioError) -> RampSpec {
        var fields = try Fields(
            value,
            path: path,
            what: "a ramp",
            allowed: ["name", "duration", "steps", "proxies", "latency", "bandwidth"]
        )
        let name = try fields.take("name").map { v throws(ScenarioError) in try Self.string(v, fields.path("name")) }
        guard let durationValue = fields.take("duration") else {
            throw .invalid(fields.path("duration"), "required: how long the whole ramp lasts, like 60s")
        }
        let duration = try Self.duration(durationValue, fields.path("duration"))
        guard let stepsValue = fields.take("steps") else {
            throw .invalid(fields.path("steps"), "required: " + Self.stepsReason)
        }
        let steps = Int(try Self.integer(stepsValue, fields.path("steps"), reason: Self.stepsReason))
        var ramp = RampSpec(name: name, duration: duration, steps: steps)
        ramp.proxies = try fields.take("proxies").map { v throws(ScenarioError) in
            try Self.stringList(v, fields.path("proxies"), what: "proxy names")
        }
        if let v = fields.take("latency") {
            var latency = try Fields(
                v,
                path: fields.path("latency"),
                what: "a latency ramp",
                allowed: ["from", "to", "jitter", "direction"]
            )
            ramp.latency = try Self.rampValues(&latency, reason: Self.msReason)
            if let jitter = latency.take("jitter") {
                ramp.latencyJitterMilliseconds = try Self.integer(jitter, latency.path("jitter"), reason: Self.msReason)
            }
            if let direction = latency.take("direction") {
                ramp.latencyDirection = try Self.direction(direction, latency.path("direction"))
            }
        }
        if let v = fields.take("bandwidth") {
            var bandwidth = try Fields(
                v,
                path: fields.path("bandwidth"),
                what: "a bandwidth ramp",
                allowed: ["from", "to", "direction"]
            )
            ramp.bandwidth = try Self.rampValues(&bandwidth, reason: Self.rateReason)
            if let direction = bandwidth.take("direction") {
                ramp.bandwidthDirection = try Self.direction(direction, bandwidth.path("direction"))
            }
        }
        return ramp
    }

    static let stepsReason = "must be a whole number from 2 to 1000"

    private static func rampValues(_ fields: inout Fields, reason: String) throws(ScenarioError) -> RampValues {
        guard let from = fields.take("from") else { throw .invalid(fields.path("from"), "required: the first value") }
        guard let to = fields.take("to") else { throw .invalid(fields.path("to"), "required: the last value") }
        return RampValues(
            from: try Self.integer(from, fields.path("from"), reason: reason),
            to: try Self.integer(to, fields.path("to"), reason: reason)
        )
    }

    // MARK: - Values

    static func string(_ value: JSONValue, _ path: String) throws(ScenarioError) -> String {
        guard case .string(let text) = value else {
            throw .invalid(path, "must be a string, got \(Self.given(value))")
        }
        return text
    }

    private static func bool(_ value: JSONValue, _ path: String) throws(ScenarioError) -> Bool {
        guard case .bool(let flag) = value else {
            throw .invalid(path, "must be true or false, got \(Self.given(value))")
        }
        return flag
    }

    private static func stringList(_ value: JSONValue, _ path: String, what: String) throws(ScenarioError) -> [String] {
        guard case .array(let elements) = value else {
            throw .invalid(path, "must be a list of \(what), got \(Self.given(value))")
        }
        var strings: [String] = []
        for (index, element) in elements.enumerated() {
            strings.append(try Self.string(element, "\(path)[\(index)]"))
        }
        return strings
    }

    /// A whole number; `reason` says what the field takes, for the error.
    static func integer(_ value: JSONValue, _ path: String, reason: String) throws(ScenarioError) -> Int64 {
        guard case .number(let text) = value, let integer = Int64(text) else {
            throw .invalid(path, "\(reason), got \(Self.given(value))")
        }
        return integer
    }

    private static func toxicity(_ value: JSONValue, _ path: String) throws(ScenarioError) -> Float {
        guard case .number(let text) = value, let number = Float(text) else {
            throw .invalid(path, "\(Self.toxicityReason), got \(Self.given(value))")
        }
        return number
    }

    private static func direction(_ value: JSONValue, _ path: String) throws(ScenarioError) -> ScenarioDirection {
        if case .string(let text) = value {
            switch text {
            case "up", "upstream": return .upstream
            case "down", "downstream": return .downstream
            case "both": return .both
            default: break
            }
        }
        throw .invalid(path, "must be up, down or both (or upstream, downstream), got \(Self.given(value))")
    }

    static let durationReason = "must be a duration like 15s, 1m30s or 150ms (a bare number is milliseconds)"

    /// A duration string, or a bare number of milliseconds.
    static func duration(_ value: JSONValue, _ path: String) throws(ScenarioError) -> Duration {
        switch value {
        case .string(let text):
            if let duration = DurationText.parse(text) { return duration }
        case .number(let text):
            if let duration = DurationText.parse(text + "ms") { return duration }
            if let milliseconds = Double(text), milliseconds.isFinite, milliseconds >= 0, milliseconds < 1e15 {
                return .nanoseconds(Int64((milliseconds * 1e6).rounded()))
            }
        default:
            break
        }
        throw .invalid(path, "\(Self.durationReason), got \(Self.given(value))")
    }

    /// How an error quotes the value it got: strings quoted, numbers as written, containers by kind.
    static func given(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let text): text
        case .string(let text): Self.quoted(text)
        case .array: "a list"
        case .object: "a mapping"
        }
    }

    static func quoted(_ text: String) -> String {
        let limited = text.count > 60 ? String(text.prefix(60)) + "…" : text
        var quoted = "\""
        for character in limited {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }
}

/// The members of one mapping, checked against the keys it may have, taken one by one.
struct Fields {
    let path: String
    private var members: [String: JSONValue] = [:]
    /// The keys in document order.
    let keys: [String]

    /// `allowed` nil takes any key (the caller checks them).
    init(_ value: JSONValue, path: String, what: String, allowed: [String]?) throws(ScenarioError) {
        self.path = path
        guard case .object(let object) = value else {
            throw .invalid(path, "must be \(what) (a mapping), got \(ScenarioDecoding.given(value))")
        }
        var keys: [String] = []
        for member in object.members {
            let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
            if let allowed, !allowed.contains(member.key) {
                throw .invalid(memberPath, "unknown key; \(what) takes \(allowed.joined(separator: ", "))")
            }
            guard self.members[member.key] == nil else {
                throw .invalid(memberPath, "appears twice")
            }
            self.members[member.key] = member.value
            keys.append(member.key)
        }
        self.keys = keys
    }

    func path(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    /// The value of `key`; a `null` counts as absent.
    mutating func take(_ key: String) -> JSONValue? {
        guard let value = self.members.removeValue(forKey: key), value != .null else { return nil }
        return value
    }
}
