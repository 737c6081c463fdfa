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

    public var description: String {
        fatalError("unimplemented")
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
    /// From `current` to `target` for the managed items only: managed toxics absent from the target are
    /// removed, the target's toxics set where they differ, `enabled` set where managed and different.
    /// Toxics that are not managed are never touched. Removals come before additions, and an enable last,
    /// a disable first (so an outage starts and ends in one step).
    public static func phaseChanges(
        plan: ScenarioPlan,
        current: [Proxy],
        target: [String: ProxyState]
    ) -> [ProxyChange] {
        fatalError("unimplemented")
    }

    /// The restore: for each managed item, if it still is what the scenario last set (`applied`), it goes back
    /// to `baseline` (removed when it did not exist before); otherwise someone else changed it meanwhile, and it
    /// is kept and reported. A proxy deleted meanwhile is reported and skipped.
    public static func restore(
        plan: ScenarioPlan,
        baseline: [Proxy],
        applied: [String: ProxyState],
        current: [Proxy]
    ) -> (changes: [ProxyChange], kept: [KeptChange]) {
        fatalError("unimplemented")
    }
}
