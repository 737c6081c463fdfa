/// One entry of a pod template's `hostAliases`.
public struct HostAlias: Sendable, Hashable {
    public var ip: String
    public var hostnames: [String]

    public init(ip: String, hostnames: [String]) {
        self.ip = ip
        self.hostnames = hostnames
    }

    var json: JSON { ["ip": .string(ip), "hostnames": .array(hostnames.map { .string($0) })] }
}

/// What toxictl owns in a Deployment's hostAliases: hostname → IP, kept as JSON in an annotation on the
/// Deployment's metadata (not the pod template, so recording it never restarts pods).
public struct RoutingRecord: Sendable, Hashable {
    public static let annotation = "toxictl.dev/routing"

    /// Hostname → the ClusterIP we aliased it to.
    public var routes: [String: String]

    public init(routes: [String: String] = [:]) {
        self.routes = routes
    }

    /// The record on `deployment`, empty when it has none.
    /// - Throws: ``KubeDeployError`` `unexpectedObject` when the annotation is not ours to read.
    public init(deployment: JSON) throws {
        guard let text = deployment[["metadata", "annotations", Self.annotation]]?.stringValue else {
            self.routes = [:]
            return
        }
        guard let members = (try? JSON(parsing: text))?.objectValue,
            case let routes = members.compactMapValues(\.stringValue), routes.count == members.count
        else {
            throw KubeDeployError(
                .unexpectedObject,
                "annotation \(Self.annotation) on the Deployment is not a JSON object of hostname to IP: \(text)"
            )
        }
        self.routes = routes
    }

    public var jsonText: String { JSON.object(routes.mapValues { .string($0) }).jsonText }
}

/// Pure functions from a Deployment's current JSON to the patch that routes (or unroutes) our hosts.
public enum Routing {
    /// The hostAliases of `deployment`'s pod template.
    public static func aliases(of deployment: JSON) -> [HostAlias] {
        (deployment[["spec", "template", "spec", "hostAliases"]]?.arrayValue ?? []).compactMap { entry in
            guard let ip = entry["ip"]?.stringValue else { return nil }
            return HostAlias(ip: ip, hostnames: entry["hostnames"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    /// Throws ``KubeDeployError`` `routingConflict` when the Deployment has a hostAliases entry of the
    /// user's for one of `hosts`: one that our record does not list at that IP.
    public static func checkConflicts(in deployment: JSON, hosts: [String]) throws {
        let owned = try RoutingRecord(deployment: deployment).routes
        var conflicts: [String] = []
        for host in Set(hosts).sorted() {
            for alias in aliases(of: deployment) where alias.hostnames.contains(host) && owned[host] != alias.ip {
                conflicts.append("\(host) → \(alias.ip)")
            }
        }
        guard conflicts.isEmpty else {
            throw KubeDeployError(
                .routingConflict,
                "the Deployment already has hostAliases of its own for "
                    + conflicts.joined(separator: ", ")
                    + "; remove them (or route other hosts) and run again. Nothing was changed."
            )
        }
    }

    /// The strategic-merge patch that makes our hostAliases entries exactly `routes` (hostname → IP) and
    /// records them, or nil when the Deployment already is so (so a re-run starts no rollout).
    /// `routes: [:]` unroutes: it removes what the record says we own, and the record itself.
    ///
    /// `hostAliases` merges by `ip`, but `hostnames` inside an entry is an atomic list. So the patch never
    /// sends a bare `{ip, hostnames: [ours]}` or a `$patch: delete` for an IP the user also uses: it sends
    /// that entry's whole new hostnames list (the user's names kept, ours added or removed), and deletes
    /// an entry only when no hostname is left in it. Entries at other IPs are not in the patch at all.
    ///
    /// - Throws: ``KubeDeployError`` `routingConflict` when the user has an alias of their own for one of
    ///   the hostnames in `routes` (one not in our record); nothing should be changed then.
    public static func patch(for deployment: JSON, routes: [String: String]) throws -> JSON? {
        let current = aliases(of: deployment)
        let owned = try RoutingRecord(deployment: deployment).routes

        try checkConflicts(in: deployment, hosts: Array(routes.keys))

        var desired = current
        for (host, ip) in owned where routes[host] != ip {
            if let index = desired.firstIndex(where: { $0.ip == ip }) {
                desired[index].hostnames.removeAll { $0 == host }
            }
        }
        for host in routes.keys.sorted() {
            let ip = routes[host]!
            if let index = desired.firstIndex(where: { $0.ip == ip }) {
                if !desired[index].hostnames.contains(host) { desired[index].hostnames.append(host) }
            } else {
                desired.append(HostAlias(ip: ip, hostnames: [host]))
            }
        }

        var entries: [JSON] = []
        var seen: Set<String> = []
        for alias in current + desired where seen.insert(alias.ip).inserted {
            let before = current.first { $0.ip == alias.ip }
            let after = desired.first { $0.ip == alias.ip }
            guard before?.hostnames != after?.hostnames else { continue }
            if let after, !after.hostnames.isEmpty {
                entries.append(after.json)
            } else {
                entries.append(["ip": .string(alias.ip), "$patch": "delete"])
            }
        }

        var patch: [String: JSON] = [:]
        let recordText = routes.isEmpty ? nil : RoutingRecord(routes: routes).jsonText
        let currentText = deployment[["metadata", "annotations", RoutingRecord.annotation]]?.stringValue
        if recordText != currentText {
            patch["metadata"] = ["annotations": [RoutingRecord.annotation: recordText.map { .string($0) } ?? .null]]
        }
        if !entries.isEmpty {
            patch["spec"] = ["template": ["spec": ["hostAliases": .array(entries)]]]
        }
        return patch.isEmpty ? nil : .object(patch)
    }
}
