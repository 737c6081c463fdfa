import ToxiproxyModel

/// One change to a proxy through the admin API's operations; what a phase switch and a restore do.
public enum ProxyChange: Sendable, Equatable, CustomStringConvertible {
    /// Create the toxic, or update it if one of that name exists.
    case setToxic(proxy: String, toxic: Toxic)
    case removeToxic(proxy: String, name: String)
    case setEnabled(proxy: String, enabled: Bool)

    public var proxy: String {
        switch self {
        case .setToxic(let proxy, _), .removeToxic(let proxy, _), .setEnabled(let proxy, _): proxy
        }
    }

    /// `p: set toxic fixed_latency_up (latency upstream, toxicity 1, latency=500 jitter=50)`, `p: remove toxic
    /// NAME`, `p: disable`, `p: enable`.
    public var description: String {
        switch self {
        case .setToxic(let proxy, let toxic):
            let attributes = toxic.attributes.values.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            let details =
                ["\(toxic.type.name) \(toxic.stream)", "toxicity \(ToxicComparison.number(toxic.toxicity))"]
                + (attributes.isEmpty ? [] : [attributes])
            return "\(proxy): set toxic \(toxic.name) (\(details.joined(separator: ", ")))"
        case .removeToxic(let proxy, let name):
            return "\(proxy): remove toxic \(name)"
        case .setEnabled(let proxy, let enabled):
            return "\(proxy): \(enabled ? "enable" : "disable")"
        }
    }
}

/// Something another client changed on a managed item during the scenario, which the restore left as it was.
public struct KeptChange: Sendable, Equatable, CustomStringConvertible {
    public var proxy: String
    /// `toxic NAME`, `enabled`, or `proxy` (the proxy was deleted).
    public var item: String
    public var detail: String

    public init(proxy: String, item: String, detail: String) {
        self.proxy = proxy
        self.item = item
        self.detail = detail
    }

    public var description: String { "\(self.proxy): \(self.item): \(self.detail)" }
}

/// The changes that take proxies from what they are to what a phase wants, or back to what they were.
public enum ChangePlan {
    /// What a phase leaves on each proxy: the toxics the phase sets, and every other managed toxic as it was
    /// before the scenario (absent if it did not exist). So a healthy phase is the operator's own state, not
    /// "no toxics of that name": a `timeout_up` of the operator's that a flap's down phases override is
    /// updated back in place (keeping its position in the chain) in the up phases, and the restore at the end
    /// finds it already as it was.
    public static func phaseState(
        plan: ScenarioPlan,
        baseline: [Proxy],
        target: [String: ProxyState]
    ) -> [String: ProxyState] {
        var states = target
        for (name, state) in target {
            let managed = plan.managedToxics[name] ?? []
            guard let before = baseline.first(where: { $0.name == name }) else { continue }
            let set = Set(state.toxics.map(\.name))
            // In the baseline's order, so toxics that come back are created in their old order.
            let restored = before.toxics.filter { managed.contains($0.name) && !set.contains($0.name) }
            states[name]?.toxics = state.toxics + restored
        }
        return states
    }

    /// From `current` to `target` for the managed items only: managed toxics absent from the target are
    /// removed, the target's toxics set where they differ, `enabled` set where managed and different.
    /// Toxics that are not managed are never touched. Removals come before additions, and an enable last,
    /// a disable first (so an outage starts and ends in one step). A toxic whose type or stream must change is
    /// removed and set again (the API cannot update either). A proxy missing from `current` is skipped.
    public static func phaseChanges(
        plan: ScenarioPlan,
        current: [Proxy],
        target: [String: ProxyState]
    ) -> [ProxyChange] {
        var changes = Changes()
        for name in plan.scenario.proxies {
            guard let proxy = current.first(where: { $0.name == name }), let wanted = target[name] else { continue }
            let managed = plan.managedToxics[name] ?? []
            if plan.managedEnabled.contains(name), proxy.enabled != wanted.enabled {
                changes.setEnabled(name, wanted.enabled)
            }
            for toxic in proxy.toxics where managed.contains(toxic.name) {
                if !wanted.toxics.contains(where: { $0.name == toxic.name }) {
                    changes.removals.append(.removeToxic(proxy: name, name: toxic.name))
                }
            }
            for toxic in wanted.toxics {
                changes.set(toxic, on: name, over: proxy.toxics.first { $0.name == toxic.name })
            }
        }
        return changes.ordered
    }

    /// The restore: for each managed item, if it still is what the scenario last set (`applied`), it goes back
    /// to `baseline` (removed when it did not exist before); otherwise someone else changed it meanwhile, and it
    /// is kept and reported. A proxy deleted meanwhile is reported and skipped; a proxy with no `applied` state
    /// was never touched and is skipped. An item that is already as in `baseline` needs nothing and is not
    /// reported, whoever put it back.
    public static func restore(
        plan: ScenarioPlan,
        baseline: [Proxy],
        applied: [String: ProxyState],
        current: [Proxy]
    ) -> (changes: [ProxyChange], kept: [KeptChange]) {
        var changes = Changes()
        var kept: [KeptChange] = []
        for name in plan.scenario.proxies {
            guard let proxy = current.first(where: { $0.name == name }) else {
                kept.append(KeptChange(proxy: name, item: "proxy", detail: "deleted during the scenario"))
                continue
            }
            guard let last = applied[name] else { continue }
            let before = baseline.first { $0.name == name }
            if plan.managedEnabled.contains(name) {
                let was = before?.enabled ?? true
                if proxy.enabled != was {
                    if proxy.enabled == last.enabled {
                        changes.setEnabled(name, was)
                    } else {
                        kept.append(KeptChange(proxy: name, item: "enabled", detail: Self.changedDetail))
                    }
                }
            }
            // Baseline order first, so restored toxics come back in their old creation order.
            let baselineNames = (before?.toxics ?? []).map(\.name)
            let managed = plan.managedToxics[name] ?? []
            let names = baselineNames.filter(managed.contains) + managed.subtracting(baselineNames).sorted()
            for toxicName in names {
                let was = before?.toxics.first { $0.name == toxicName }
                let now = proxy.toxics.first { $0.name == toxicName }
                let set = last.toxics.first { $0.name == toxicName }
                if ToxicComparison.same(now, was) { continue }
                guard ToxicComparison.same(now, set) else {
                    let detail =
                        if now == nil {
                            "removed by someone else during the scenario; left as it is"
                        } else if set == nil {
                            "added by someone else during the scenario; left as it is"
                        } else {
                            Self.changedDetail
                        }
                    kept.append(KeptChange(proxy: name, item: "toxic \(toxicName)", detail: detail))
                    continue
                }
                if let was {
                    changes.set(was, on: name, over: now)
                } else {
                    changes.removals.append(.removeToxic(proxy: name, name: toxicName))
                }
            }
        }
        return (changes.ordered, kept)
    }

    private static let changedDetail = "changed by someone else during the scenario; left as it is"
}

/// Changes sorted into the order they must run in.
private struct Changes {
    var disables: [ProxyChange] = []
    var removals: [ProxyChange] = []
    var sets: [ProxyChange] = []
    var enables: [ProxyChange] = []

    var ordered: [ProxyChange] { self.disables + self.removals + self.sets + self.enables }

    mutating func setEnabled(_ proxy: String, _ enabled: Bool) {
        if enabled {
            self.enables.append(.setEnabled(proxy: proxy, enabled: true))
        } else {
            self.disables.append(.setEnabled(proxy: proxy, enabled: false))
        }
    }

    /// Sets `toxic` unless `existing` already is it; a type or stream change goes through a removal.
    mutating func set(_ toxic: Toxic, on proxy: String, over existing: Toxic?) {
        if let existing {
            if ToxicComparison.same(existing, toxic) { return }
            if existing.type != toxic.type || existing.direction != toxic.direction {
                self.removals.append(.removeToxic(proxy: proxy, name: existing.name))
            }
        }
        self.sets.append(.setToxic(proxy: proxy, toxic: toxic))
    }
}

/// When two toxics of one name count as the same: type, stream direction, toxicity and attributes (the
/// `stream` spelling a client chose does not matter).
enum ToxicComparison {
    static func same(_ a: Toxic?, _ b: Toxic?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?):
            a.name == b.name && a.type == b.type && a.direction == b.direction && a.toxicity == b.toxicity
                && a.attributes == b.attributes
        default: false
        }
    }

    /// A toxicity as people write it: `1`, `0.5`.
    static func number(_ value: Float) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : value.description
    }
}
