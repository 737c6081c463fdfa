/// An object by kind and name, in the installer's namespace.
public struct ObjectRef: Sendable, Hashable, CustomStringConvertible {
    public var kind: KubeKind
    public var name: String

    public init(_ kind: KubeKind, _ name: String) {
        self.kind = kind
        self.name = name
    }

    /// The object a manifest describes.
    public init?(manifest: JSON) {
        guard let kindName = manifest["kind"]?.stringValue, let kind = KubeKind(kindName: kindName),
            let name = manifest[["metadata", "name"]]?.stringValue
        else { return nil }
        self.init(kind, name)
    }

    public var description: String { "\(kind.kindName)/\(name)" }
}

extension ObjectRef: Encodable {
    /// As `Kind/name`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The steps of enable, in order; also where the tests inject failures.
public enum EnableStep: String, Sendable, Hashable, CaseIterable {
    case preflight, applyConfigMap, applyDeployment, applyServices, proxyRollout, configureProxies, route
    case targetRollout
}

/// What the workflow is doing, for a person watching.
public enum InstallEvent: Sendable, Hashable {
    case step(String)
    /// A line of `kubectl rollout status` for a Deployment.
    case rollout(deployment: String, line: String)
    /// Something undone after a failure.
    case rolledBack(String)
}

public struct EnableReport: Sendable, Hashable {
    /// Objects this run created (they did not exist before it).
    public var created: [ObjectRef]
    /// Objects that existed and that this run's apply changed.
    public var updated: [ObjectRef]
    /// Hostname → the ClusterIP the target now resolves it to.
    public var routes: [String: String]
    /// Whether this run patched the target's hostAliases (and so started its rollout).
    public var routingChanged: Bool

    /// True when the run found everything as it should be and changed nothing.
    public var changedNothing: Bool { created.isEmpty && updated.isEmpty && !routingChanged }
}

public struct DisableReport: Sendable, Hashable {
    /// False when there was nothing of ours in the namespace: not an error, there is nothing to do.
    public var wasInstalled: Bool
    /// Hostname → IP of the aliases removed from the target.
    public var unrouted: [String: String]
    public var deleted: [ObjectRef]
}

/// The install workflow over any ``Kubectl``: enable, disable, status and their dry-run plans.
/// Every decision is computed from what the cluster returns before acting on it.
public struct Installer: Sendable {
    public let target: KubeTarget
    public let kubectl: any Kubectl
    public var proxyRolloutTimeout: Duration = .seconds(90)
    public var targetRolloutTimeout: Duration = .seconds(120)

    public init(target: KubeTarget, kubectl: any Kubectl) {
        self.target = target
        self.kubectl = kubectl
    }

    var manifests: ProxyManifests { ProxyManifests(target: target) }

    /// Checks that enable can run, changing nothing: the namespace and the target Deployment exist, every
    /// permission in ``Permission/required(for:)`` is granted, and no user alias conflicts with our hosts.
    /// Returns the target Deployment.
    ///
    /// - Throws: ``KubeDeployError`` `namespaceNotFound`, `deploymentNotFound`, `routingConflict`, or
    ///   `permissionsMissing` listing every missing permission at once with a Role that grants them.
    @discardableResult
    public func preflight() async throws -> JSON {
        do {
            guard try await kubectl.namespaceExists() else {
                throw KubeDeployError(
                    .namespaceNotFound,
                    "namespace \(target.namespace) does not exist in this cluster; check -n and --context"
                )
            }
        } catch let error as KubectlError where error.code == .forbidden {
            // Users limited to one namespace often may not get it; finding the Deployment proves it exists.
        }
        guard let deployment = try await kubectl.get(.deployment, name: target.deployment) else {
            throw KubeDeployError(
                .deploymentNotFound,
                "Deployment \(target.deployment) not found in namespace \(target.namespace); check --deployment"
            )
        }
        var missing: [Permission] = []
        for permission in Permission.required(for: target) {
            let allowed = try await kubectl.canI(
                verb: permission.verb,
                resource: permission.resource,
                subresource: permission.subresource,
                name: permission.name
            )
            if !allowed { missing.append(permission) }
        }
        guard missing.isEmpty else {
            let role = Permission.role(granting: missing, namespace: target.namespace)
            throw KubeDeployError(
                .permissionsMissing,
                "you lack \(missing.count) permission(s) in namespace \(target.namespace); nothing was changed:\n"
                    + missing.map { "  - \($0)" }.joined(separator: "\n")
                    + "\nA Role that grants them (bind it to your user with a RoleBinding):\n" + role.yamlText
            )
        }
        try Routing.checkConflicts(in: deployment, hosts: target.hosts.map(\.host))
        return deployment
    }

    /// Installs the proxy and routes the target through it.
    ///
    /// Order: pre-flight; apply ConfigMap, Deployment, Services; wait for the proxy's rollout; call
    /// `configureProxies` with the local port of a port-forward to the admin API (the caller confirms
    /// the server is ours and creates or verifies the proxies); only then route and wait for the target's
    /// rollout. A re-run changes nothing. On a failure after pre-flight, what this run created is removed
    /// (routing first, then objects that did not exist before it), and the error says what was undone.
    public func enable(
        progress: @escaping @Sendable (InstallEvent) -> Void = { _ in },
        configureProxies: (Int) async throws -> Void
    ) async throws -> EnableReport {
        progress(.step("pre-flight checks"))
        _ = try await preflight()

        var undo = Undo()
        var step = EnableStep.applyConfigMap
        do {
            var existing: [ObjectRef: JSON] = [:]
            for manifest in manifests.all {
                let ref = ObjectRef(manifest: manifest)!
                if let object = try await kubectl.get(ref.kind, name: ref.name) { existing[ref] = object }
            }
            var report = EnableReport(created: [], updated: [], routes: [:], routingChanged: false)
            var applied: [JSON] = []
            for (applyStep, objects) in [
                (EnableStep.applyConfigMap, [manifests.configMap]),
                (.applyDeployment, [manifests.deployment]),
                (.applyServices, [manifests.adminService] + manifests.hostServices),
            ] {
                step = applyStep
                progress(
                    .step(
                        "apply "
                            + objects.compactMap(ObjectRef.init(manifest:)).map(\.description).joined(separator: ", ")
                    )
                )
                let result = try await kubectl.apply(objects, dryRun: .none)
                for object in objects {
                    let ref = ObjectRef(manifest: object)!
                    let after = result.first { ObjectRef(manifest: $0) == ref }
                    if let before = existing[ref] {
                        if before[["metadata", "resourceVersion"]] != after?[["metadata", "resourceVersion"]] {
                            report.updated.append(ref)
                        }
                    } else {
                        report.created.append(ref)
                        undo.created.append(ref)
                    }
                }
                applied += result
            }

            var routes: [String: String] = [:]
            for host in target.hosts {
                let service = applied.first { ObjectRef(manifest: $0) == ObjectRef(.service, host.serviceName) }
                guard let ip = service?[["spec", "clusterIP"]]?.stringValue, !ip.isEmpty, ip != "None" else {
                    throw KubeDeployError(.unexpectedObject, "Service \(host.serviceName) has no ClusterIP")
                }
                routes[host.host] = ip
            }
            report.routes = routes

            step = .proxyRollout
            progress(.step("wait for the rollout of Deployment \(target.proxyDeploymentName)"))
            try await rollout(target.proxyDeploymentName, timeout: proxyRolloutTimeout, progress: progress)

            step = .configureProxies
            progress(.step("configure the proxies over a port-forward"))
            do {
                try await withAdminPortForward { port in try await configureProxies(port) }
            } catch let error as KubectlError {
                throw error
            } catch let error as KubeDeployError where error.code == .proxyNotReady {
                throw error
            } catch {
                throw KubeDeployError(.configureFailed, "configuring the proxies failed", cause: error)
            }

            step = .route
            guard let deployment = try await kubectl.get(.deployment, name: target.deployment) else {
                throw KubeDeployError(.deploymentNotFound, "Deployment \(target.deployment) disappeared")
            }
            let previous = try RoutingRecord(deployment: deployment).routes
            if let patch = try Routing.patch(for: deployment, routes: routes) {
                progress(
                    .step("route " + routes.keys.sorted().map { "\($0) → \(routes[$0]!)" }.joined(separator: ", "))
                )
                _ = try await kubectl.patch(.deployment, name: target.deployment, type: .strategic, patch: patch)
                undo.previousRoutes = previous
                report.routingChanged = true
                if patch["spec"] != nil {
                    undo.rolloutStarted = true
                    step = .targetRollout
                    progress(.step("wait for the rollout of Deployment \(target.deployment)"))
                    try await rollout(target.deployment, timeout: targetRolloutTimeout, progress: progress)
                }
            }
            return report
        } catch {
            let undone = await rollBack(undo, progress: progress)
            throw KubeDeployError(
                .enableFailed,
                "enable failed at step \(step.rawValue); " + undone,
                cause: error
            )
        }
    }

    /// Runs `body` with the local port of one port-forward to the admin API (8474) of a ready proxy pod of
    /// this install, and tears the forward down after. For impairment commands: one forward per run.
    ///
    /// The pod is chosen here, not by kubectl from the Deployment, so that a pod still terminating after
    /// a rollout is never the one that answers.
    /// - Throws: ``KubeDeployError`` `notInstalled` when there is no proxy Deployment, `proxyNotReady` when
    ///   it has no ready pod; ``KubectlError`` when the forward fails.
    public func withAdminPortForward<Result: Sendable>(_ body: (Int) async throws -> Result) async throws -> Result {
        guard try await kubectl.get(.deployment, name: target.proxyDeploymentName) != nil else {
            throw KubeDeployError(
                .notInstalled,
                "Toxiproxy is not installed for Deployment \(target.deployment) in namespace \(target.namespace);"
                    + " run enable first"
            )
        }
        let pods = try await kubectl.list(.pod, selector: target.labelSelector)
        guard let pod = pods.map(Self.pod).filter(\.ready).map(\.name).sorted().first else {
            throw KubeDeployError(
                .proxyNotReady,
                "the proxy Deployment \(target.proxyDeploymentName) has no ready pod"
                    + " (kubectl get pods -n \(target.namespace) -l \(target.labelSelector))"
            )
        }
        return try await kubectl.withPortForward(to: .pod(pod), remotePort: KubeTarget.adminPort, body)
    }

    /// What a failed enable must undo.
    struct Undo {
        var created: [ObjectRef] = []
        /// Set once this run patched the routing: the routes to restore.
        var previousRoutes: [String: String]?
        var rolloutStarted = false
    }

    /// Undoes `undo`, best effort, and says what it did and what it could not.
    private func rollBack(_ undo: Undo, progress: @escaping @Sendable (InstallEvent) -> Void) async -> String {
        var done: [String] = []
        var failed: [String] = []
        var keepProxy = false
        if let previous = undo.previousRoutes {
            do {
                if let deployment = try await kubectl.get(.deployment, name: target.deployment),
                    let patch = try Routing.patch(for: deployment, routes: previous)
                {
                    _ = try await kubectl.patch(.deployment, name: target.deployment, type: .strategic, patch: patch)
                    done.append("restored the hostAliases of Deployment \(target.deployment)")
                    progress(.rolledBack("restored the hostAliases of Deployment \(target.deployment)"))
                    if undo.rolloutStarted || patch["spec"] != nil {
                        try await rollout(target.deployment, timeout: targetRolloutTimeout, progress: progress)
                    }
                }
            } catch {
                // Pods may still resolve our hosts to the proxy: deleting it would cut them off.
                keepProxy = true
                failed.append("restoring the routing of Deployment \(target.deployment) (\(error))")
            }
        }
        if keepProxy {
            failed.append(
                "deleting " + undo.created.map(\.description).joined(separator: ", ") + " (kept while routed)"
            )
        } else {
            for ref in undo.created.reversed() {
                do {
                    _ = try await kubectl.delete(ref.kind, name: ref.name)
                    done.append("deleted \(ref)")
                    progress(.rolledBack("deleted \(ref)"))
                } catch {
                    failed.append("deleting \(ref) (\(error))")
                }
            }
        }
        var text = done.isEmpty ? "nothing to roll back" : "rolled back: " + done.joined(separator: ", ")
        if !failed.isEmpty { text += "; could NOT undo: " + failed.joined(separator: "; ") }
        return text
    }

    func rollout(
        _ deployment: String,
        timeout: Duration,
        progress: @escaping @Sendable (InstallEvent) -> Void
    )
        async throws
    {
        try await kubectl.rolloutStatus(deployment: deployment, timeout: timeout) { line in
            progress(.rollout(deployment: deployment, line: line))
        }
    }

    /// Removes our routing, waits for that rollout, then deletes our objects (found by our labels).
    ///
    /// No rollout when nothing was routed; a ``DisableReport`` with `wasInstalled == false` when nothing of
    /// ours is there. Safe to run twice. If the rollout fails, the routing is put back and nothing is
    /// deleted, so pods are never left resolving our hosts to a proxy that is gone.
    public func disable(progress: @escaping @Sendable (InstallEvent) -> Void = { _ in }) async throws -> DisableReport {
        var report = DisableReport(wasInstalled: false, unrouted: [:], deleted: [])
        if let deployment = try await kubectl.get(.deployment, name: target.deployment) {
            let owned = try RoutingRecord(deployment: deployment).routes
            if let patch = try Routing.patch(for: deployment, routes: [:]) {
                report.wasInstalled = true
                progress(.step("remove our hostAliases from Deployment \(target.deployment)"))
                _ = try await kubectl.patch(.deployment, name: target.deployment, type: .strategic, patch: patch)
                report.unrouted = owned
                if patch["spec"] != nil {
                    progress(.step("wait for the rollout of Deployment \(target.deployment)"))
                    do {
                        try await rollout(target.deployment, timeout: targetRolloutTimeout, progress: progress)
                    } catch {
                        let restored = await restoreRouting(owned, progress: progress)
                        throw KubeDeployError(
                            .rolloutFailed,
                            "the rollout of Deployment \(target.deployment) did not finish; \(restored);"
                                + " nothing was deleted",
                            cause: error
                        )
                    }
                }
            }
        }
        var found: [ObjectRef] = []
        for kind in [KubeKind.service, .deployment, .configMap] {
            for object in try await kubectl.list(kind, selector: target.labelSelector) {
                if let name = object[["metadata", "name"]]?.stringValue { found.append(ObjectRef(kind, name)) }
            }
        }
        if !found.isEmpty {
            report.wasInstalled = true
            progress(.step("delete " + found.map(\.description).joined(separator: ", ")))
        }
        for ref in found where try await kubectl.delete(ref.kind, name: ref.name) {
            report.deleted.append(ref)
        }
        return report
    }

    private func restoreRouting(_ routes: [String: String], progress: @Sendable (InstallEvent) -> Void) async -> String
    {
        do {
            if let deployment = try await kubectl.get(.deployment, name: target.deployment),
                let patch = try Routing.patch(for: deployment, routes: routes)
            {
                _ = try await kubectl.patch(.deployment, name: target.deployment, type: .strategic, patch: patch)
            }
            progress(.rolledBack("restored the hostAliases of Deployment \(target.deployment)"))
            return "the routing was restored"
        } catch {
            return "restoring the routing failed too (\(error))"
        }
    }
}
