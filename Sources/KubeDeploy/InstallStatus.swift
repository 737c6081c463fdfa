/// The state of an install as `status` reports it, with a health verdict.
public struct InstallStatus: Sendable, Hashable, Encodable {
    public enum Health: String, Sendable, Hashable, Encodable {
        /// Installed, ready, routed to the right Services, rollout finished.
        case healthy
        /// Nothing of ours in the namespace, and no routing: a clean state.
        case notInstalled
        /// Something is off but the endpoint still reaches the cloud (not routed, rollout in progress…).
        case degraded
        /// The target is routed to a missing, unready or wrong proxy: it is cut off from the cloud.
        case broken
    }

    public struct Pod: Sendable, Hashable, Encodable {
        public var name: String
        public var ready: Bool
        /// A restart drops every toxic that was added live (the proxies come back from the ConfigMap).
        public var restartCount: Int
    }

    public struct Route: Sendable, Hashable, Encodable {
        public var host: String
        public var serviceName: String
        /// The current ClusterIP of the host's Service; nil when the Service is missing.
        public var serviceIP: String?
        /// The IPs the target's hostAliases give the host (more than one is a misconfiguration).
        public var aliasIPs: [String]
        /// The IP our annotation says we routed the host to.
        public var recordedIP: String?

        /// Our record routes the host and the target's aliases still carry that entry; a user's own alias
        /// for the host does not count.
        public var isRouted: Bool { recordedIP.map(aliasIPs.contains) ?? false }
        /// Routed, and only to the Service's current ClusterIP.
        public var pointsAtService: Bool { serviceIP != nil && aliasIPs == [serviceIP!] }
    }

    /// Our objects that exist.
    public var present: [ObjectRef]
    /// Our objects that should exist but do not.
    public var missing: [ObjectRef]
    public var pods: [Pod]
    public var routes: [Route]
    public var targetExists: Bool
    /// Whether the target Deployment's latest generation is fully rolled out.
    public var targetRolloutComplete: Bool
    public var health: Health
    /// Why the state is broken or degraded, most severe first.
    public var problems: [String]
    /// Worth saying but not a problem, e.g. a restarted proxy pod.
    public var warnings: [String]

    public var installed: Bool { !present.isEmpty }

    private enum CodingKeys: String, CodingKey {
        case installed, health, problems, warnings, present, missing, pods, routes, targetExists
        case targetRolloutComplete
    }

    /// The shape of `status -o json`: every stored field plus `installed`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(installed, forKey: .installed)
        try container.encode(health, forKey: .health)
        try container.encode(problems, forKey: .problems)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(present, forKey: .present)
        try container.encode(missing, forKey: .missing)
        try container.encode(pods, forKey: .pods)
        try container.encode(routes, forKey: .routes)
        try container.encode(targetExists, forKey: .targetExists)
        try container.encode(targetRolloutComplete, forKey: .targetRolloutComplete)
    }
}

extension Installer {
    /// Reads our objects, the proxy pods and the target's routing; changes nothing.
    public func status() async throws -> InstallStatus {
        var present: [ObjectRef] = []
        var missing: [ObjectRef] = []
        var objects: [ObjectRef: JSON] = [:]
        for manifest in manifests.all {
            let ref = ObjectRef(manifest: manifest)!
            if let object = try await kubectl.get(ref.kind, name: ref.name) {
                present.append(ref)
                objects[ref] = object
            } else {
                missing.append(ref)
            }
        }
        let pods = try await kubectl.list(.pod, selector: target.labelSelector).map(Self.pod)
        let deployment = try await kubectl.get(.deployment, name: target.deployment)
        let aliases = deployment.map(Routing.aliases(of:)) ?? []
        let record = try deployment.map { try RoutingRecord(deployment: $0).routes } ?? [:]
        let routes = target.hosts.map { host in
            InstallStatus.Route(
                host: host.host,
                serviceName: host.serviceName,
                serviceIP: objects[ObjectRef(.service, host.serviceName)]?[["spec", "clusterIP"]]?.stringValue,
                aliasIPs: aliases.filter { $0.hostnames.contains(host.host) }.map(\.ip),
                recordedIP: record[host.host]
            )
        }
        let rolledOut = deployment.map(Self.rolloutComplete) ?? false
        return Self.verdict(
            present: present,
            missing: missing,
            pods: pods,
            routes: routes,
            targetExists: deployment != nil,
            targetRolloutComplete: rolledOut,
            target: target
        )
    }

    static func pod(_ json: JSON) -> InstallStatus.Pod {
        let statuses = json[["status", "containerStatuses"]]?.arrayValue ?? []
        let ready = (json[["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
        return InstallStatus.Pod(
            name: json[["metadata", "name"]]?.stringValue ?? "",
            ready: ready && json[["metadata", "deletionTimestamp"]] == nil,
            restartCount: statuses.compactMap { $0["restartCount"]?.intValue }.reduce(0, +)
        )
    }

    /// The Deployment controller has seen the latest spec and every replica is updated and available.
    static func rolloutComplete(_ deployment: JSON) -> Bool {
        let generation = deployment[["metadata", "generation"]]?.intValue ?? 0
        let status = deployment["status"]
        let replicas = deployment[["spec", "replicas"]]?.intValue ?? 1
        return (status?["observedGeneration"]?.intValue ?? 0) >= generation
            && (status?["updatedReplicas"]?.intValue ?? 0) >= replicas
            && (status?["availableReplicas"]?.intValue ?? 0) >= replicas
            && (status?["replicas"]?.intValue ?? 0) <= replicas
    }

    /// The health verdict from what was read; pure.
    static func verdict(
        present: [ObjectRef],
        missing: [ObjectRef],
        pods: [InstallStatus.Pod],
        routes: [InstallStatus.Route],
        targetExists: Bool,
        targetRolloutComplete: Bool,
        target: KubeTarget
    ) -> InstallStatus {
        var broken: [String] = []
        var degraded: [String] = []
        var warnings: [String] = []
        let routed = routes.filter(\.isRouted)
        let proxyReady = pods.contains(where: \.ready)
        let proxyExists = present.contains(ObjectRef(.deployment, target.proxyDeploymentName))
        if !routed.isEmpty {
            let hosts = routed.map(\.host).joined(separator: ", ")
            if !proxyExists {
                broken.append("\(hosts) routed to a proxy that does not exist: the endpoint is cut off from the cloud")
            } else if !proxyReady {
                broken.append("\(hosts) routed to a proxy with no ready pod: the endpoint is cut off from the cloud")
            }
            for route in routed where !route.pointsAtService {
                let service = route.serviceIP.map { "its current ClusterIP \($0)" } ?? "a Service that is missing"
                broken.append(
                    "\(route.host) resolves to \(route.aliasIPs.joined(separator: ", ")), not to \(service)"
                        + " (Service \(route.serviceName)): the endpoint is cut off from the cloud"
                )
            }
        }
        if !present.isEmpty {
            if !missing.isEmpty { degraded.append("missing: " + missing.map(\.description).joined(separator: ", ")) }
            if routed.isEmpty && proxyExists {
                degraded.append("installed but not routed: run enable to route the Deployment through the proxy")
            } else if routed.count < routes.count {
                let hosts = routes.filter { !$0.isRouted }.map(\.host).joined(separator: ", ")
                degraded.append("not routed: \(hosts)")
            }
            if proxyExists && !proxyReady && routed.isEmpty { degraded.append("the proxy pod is not ready") }
        }
        if !targetExists {
            degraded.append("Deployment \(target.deployment) not found")
        } else if !targetRolloutComplete && (!routed.isEmpty || !present.isEmpty) {
            degraded.append("the rollout of Deployment \(target.deployment) has not finished")
        }
        for pod in pods where pod.restartCount > 0 {
            warnings.append(
                "proxy pod \(pod.name) restarted \(pod.restartCount) time(s): toxics added before a restart are gone"
            )
        }
        let health: InstallStatus.Health
        if !broken.isEmpty {
            health = .broken
        } else if present.isEmpty && routed.isEmpty {
            health = .notInstalled
            degraded = []
        } else if !degraded.isEmpty {
            health = .degraded
        } else {
            health = .healthy
        }
        return InstallStatus(
            present: present,
            missing: missing,
            pods: pods,
            routes: routes,
            targetExists: targetExists,
            targetRolloutComplete: targetRolloutComplete,
            health: health,
            problems: broken + degraded,
            warnings: warnings
        )
    }
}
