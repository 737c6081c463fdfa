/// What enable or disable would do, for `--dry-run`: the manifests, the patch, and the API calls in
/// order. Computing it changes nothing.
public struct InstallPlan: Sendable, Hashable {
    /// Objects to server-side apply (enable) or to delete (disable; their current state).
    public var manifests: [JSON]
    /// The strategic-merge patch of the target Deployment, nil when its routing needs no change.
    /// Before the first enable the ClusterIPs do not exist yet: the patch then holds placeholders
    /// `<ClusterIP of Service NAME>`.
    public var routingPatch: JSON?
    /// The API calls, in order, as a person reads them.
    public var calls: [String]

    /// The manifests as YAML documents, `---` separated (what `kubectl apply -f` takes).
    public var manifestsYAML: String { JSON.yamlStream(manifests) }

    /// The manifests and then the patch, each a `---` separated YAML document; the patch is preceded
    /// by a comment naming what it patches.
    public func yaml(target: KubeTarget) -> String {
        var text = manifestsYAML
        if let routingPatch {
            text += "---\n# strategic-merge patch of deployment/\(target.deployment)\n" + routingPatch.yamlText
        }
        return text
    }
}

extension InstallPlan {
    /// The enable plan from the target Deployment as it is now and the ClusterIPs of the host Services
    /// that already exist (Service name → IP); pure.
    public static func enable(target: KubeTarget, deployment: JSON, serviceIPs: [String: String]) throws -> Self {
        let manifests = ProxyManifests(target: target)
        var routes: [String: String] = [:]
        for host in target.hosts {
            routes[host.host] = serviceIPs[host.serviceName] ?? "<ClusterIP of Service \(host.serviceName)>"
        }
        let patch = try Routing.patch(for: deployment, routes: routes)
        var calls = [
            "get namespace \(target.namespace)",
            "get deployment/\(target.deployment)",
        ]
        calls += Permission.required(for: target).map { "auth can-i \($0)" }
        calls += manifests.all.compactMap(ObjectRef.init(manifest:)).map { "get \($0)" }
        calls += [
            "apply --server-side --field-manager=toxictl ConfigMap/\(target.configMapName)",
            "apply --server-side --field-manager=toxictl Deployment/\(target.proxyDeploymentName)",
            "apply --server-side --field-manager=toxictl "
                + ([target.adminServiceName] + target.hosts.map(\.serviceName)).map { "Service/\($0)" }.joined(
                    separator: ", "
                ),
            "rollout status deployment/\(target.proxyDeploymentName)",
            "list pods -l \(target.labelSelector)",
            "port-forward pod/<a ready proxy pod> :\(KubeTarget.adminPort) (configure the proxies)",
            "get deployment/\(target.deployment)",
        ]
        if let patch {
            calls.append("patch deployment/\(target.deployment) --type=strategic (hostAliases)")
            if patch["spec"] != nil { calls.append("rollout status deployment/\(target.deployment)") }
        }
        return InstallPlan(manifests: manifests.all, routingPatch: patch, calls: calls)
    }

    /// The disable plan from the target Deployment (nil when missing) and our objects found by label; pure.
    public static func disable(target: KubeTarget, deployment: JSON?, objects: [JSON]) throws -> Self {
        let patch = try deployment.flatMap { try Routing.patch(for: $0, routes: [:]) }
        var calls = ["get deployment/\(target.deployment)"]
        if let patch {
            calls.append("patch deployment/\(target.deployment) --type=strategic (remove our hostAliases)")
            if patch["spec"] != nil { calls.append("rollout status deployment/\(target.deployment)") }
        }
        calls += ["services", "deployments", "configmaps"].map { "get \($0) -l \(target.labelSelector)" }
        calls += objects.compactMap(ObjectRef.init(manifest:)).map { "delete \($0)" }
        return InstallPlan(manifests: objects, routingPatch: patch, calls: calls)
    }
}

extension Installer {
    /// The enable plan against the cluster as it is (reads only).
    public func planEnable() async throws -> InstallPlan {
        guard let deployment = try await kubectl.get(.deployment, name: target.deployment) else {
            throw KubeDeployError(
                .deploymentNotFound,
                "Deployment \(target.deployment) not found in namespace \(target.namespace); check --deployment"
            )
        }
        var serviceIPs: [String: String] = [:]
        for host in target.hosts {
            if let ip = try await kubectl.get(.service, name: host.serviceName)?[["spec", "clusterIP"]]?.stringValue {
                serviceIPs[host.serviceName] = ip
            }
        }
        return try InstallPlan.enable(target: target, deployment: deployment, serviceIPs: serviceIPs)
    }

    /// The disable plan against the cluster as it is (reads only).
    public func planDisable() async throws -> InstallPlan {
        let deployment = try await kubectl.get(.deployment, name: target.deployment)
        var objects: [JSON] = []
        for kind in [KubeKind.service, .deployment, .configMap] {
            objects += try await kubectl.list(kind, selector: target.labelSelector)
        }
        return try InstallPlan.disable(target: target, deployment: deployment, objects: objects)
    }
}
