import Foundation
import KubeDeploy

/// A ``Kubectl`` that keeps the state of one namespace of a cluster: objects by kind and name,
/// server-side apply that changes nothing for an identical object, strategic merge of `hostAliases` by
/// `ip`, ClusterIP allocation, Deployment generations bumped only when the spec changes, and an instant
/// Deployment controller that finishes a rollout when `rollout status` is asked. Any call can be made
/// to fail.
final class FakeKubectl: Kubectl, @unchecked Sendable {
    struct InjectedFailure: Error, CustomStringConvertible {
        var call: String
        var description: String { "injected failure at \(call)" }
    }

    private let lock = NSLock()
    private var objects: [ObjectRef: JSON] = [:]
    private var nextIP = 10
    private var nextResourceVersion = 100
    private var _calls: [String] = []
    private var _failOn: (@Sendable (String) -> Bool)?
    private var _failOnce = false
    var namespaceExistsAnswer = true
    /// Users limited to a namespace often may not get the namespace itself.
    var namespaceForbidden = false
    var denied: Set<String> = []
    /// The proxy pod's readiness and restarts, when its Deployment is rolled out.
    var podReady = true
    var podRestarts = 0
    let forwardedPort = 40_123

    init(objects: [JSON] = []) {
        for object in objects { _ = try! store(object, isApply: true) }
        _calls = []
    }

    /// Every call so far, e.g. `apply ConfigMap/x`, `patch deployments/edge-endpoint`.
    var calls: [String] { lock.withLock { _calls } }

    /// Calls for which `predicate` is true throw (after being recorded), changing nothing.
    func failOn(_ predicate: (@Sendable (String) -> Bool)?) {
        lock.withLock {
            _failOn = predicate
            _failOnce = false
        }
    }

    /// Only the first call for which `predicate` is true throws.
    func failOnce(_ predicate: @escaping @Sendable (String) -> Bool) {
        lock.withLock {
            _failOn = predicate
            _failOnce = true
        }
    }

    subscript(kind: KubeKind, name: String) -> JSON? {
        get { lock.withLock { objects[ObjectRef(kind, name)] } }
    }

    /// The cluster as a person compares it: every object without the fields the server changes on its own.
    var snapshot: [ObjectRef: JSON] {
        lock.withLock {
            objects.mapValues { object in
                var members = object.objectValue!
                members["status"] = nil
                var metadata = members["metadata"]!.objectValue!
                metadata["resourceVersion"] = nil
                metadata["generation"] = nil
                members["metadata"] = .object(metadata)
                return .object(members)
            }
        }
    }

    func delete(_ ref: ObjectRef) { lock.withLock { objects[ref] = nil } }

    func put(_ object: JSON) { lock.withLock { _ = try! store(object, isApply: true) } }

    private func record(_ call: String) throws {
        try lock.withLock {
            _calls.append(call)
            if let failOn = _failOn, failOn(call) {
                if _failOnce { _failOn = nil }
                throw InjectedFailure(call: call)
            }
        }
    }

    // MARK: Kubectl

    func currentContext() async throws -> KubeContext {
        try record("config view")
        return KubeContext(context: "fake", cluster: "fake-cluster", namespace: "edge")
    }

    func namespaceExists() async throws -> Bool {
        try record("get namespace")
        if namespaceForbidden { throw KubectlError(.forbidden, "namespaces \"edge\" is forbidden") }
        return namespaceExistsAnswer
    }

    func get(_ kind: KubeKind, name: String) async throws -> JSON? {
        try record("get \(kind.resource)/\(name)")
        if kind == .pod { return pods().first { $0[["metadata", "name"]]?.stringValue == name } }
        return self[kind, name]
    }

    func list(_ kind: KubeKind, selector: String) async throws -> [JSON] {
        try record("list \(kind.resource) -l \(selector)")
        let wanted = Dictionary(
            uniqueKeysWithValues: selector.split(separator: ",").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), JSON.string(String(parts[1])))
            }
        )
        let candidates = kind == .pod ? pods() : lock.withLock { objects.filter { $0.key.kind == kind }.map(\.value) }
        return candidates.filter { object in
            let labels = object[["metadata", "labels"]]?.objectValue ?? [:]
            return wanted.allSatisfy { labels[$0.key] == $0.value }
        }.sorted { ($0[["metadata", "name"]]?.stringValue ?? "") < ($1[["metadata", "name"]]?.stringValue ?? "") }
    }

    func apply(_ objects: [JSON], dryRun: DryRun) async throws -> [JSON] {
        let refs = objects.compactMap(ObjectRef.init(manifest:))
        try record("apply " + refs.map(\.description).joined(separator: ","))
        return try lock.withLock {
            let saved = self.objects
            do {
                let stored = try objects.map { try store($0, isApply: true) }
                if dryRun == .server { self.objects = saved }
                return stored
            } catch {
                self.objects = saved
                throw error
            }
        }
    }

    func patch(_ kind: KubeKind, name: String, type: PatchType, patch: JSON) async throws -> JSON {
        try record("patch \(kind.resource)/\(name)")
        return try lock.withLock {
            guard type == .strategic else { fatalError("the fake only speaks strategic merge") }
            guard let current = objects[ObjectRef(kind, name)] else {
                throw KubectlError(.notFound, "\(kind.resource) \"\(name)\" not found")
            }
            return try store(Self.strategicMerge(current, patch), isApply: false)
        }
    }

    func delete(_ kind: KubeKind, name: String) async throws -> Bool {
        try record("delete \(kind.kindName)/\(name)")
        return lock.withLock { objects.removeValue(forKey: ObjectRef(kind, name)) != nil }
    }

    func canI(verb: String, resource: String, subresource: String?, name: String?) async throws -> Bool {
        let permission = Permission(verb, resource, subresource: subresource, name: name)
        try record("can-i \(permission)")
        return !denied.contains(permission.description)
    }

    func rolloutStatus(
        deployment: String,
        timeout: Duration,
        progress: @escaping @Sendable (String) -> Void
    ) async throws {
        try record("rollout \(deployment)")
        let done: Bool = lock.withLock {
            guard var object = objects[ObjectRef(.deployment, deployment)]?.objectValue else { return false }
            let replicas = object["spec"]?["replicas"]?.intValue ?? 1
            object["status"] = [
                "observedGeneration": object["metadata"]!["generation"]!,
                "replicas": .int(replicas),
                "updatedReplicas": .int(replicas),
                "readyReplicas": .int(replicas),
                "availableReplicas": .int(replicas),
            ]
            objects[ObjectRef(.deployment, deployment)] = .object(object)
            return true
        }
        guard done else { throw KubectlError(.notFound, "deployments.apps \"\(deployment)\" not found") }
        progress("deployment \"\(deployment)\" successfully rolled out")
    }

    func withPortForward<Result: Sendable>(
        to target: PortForwardTarget,
        remotePort: Int,
        _ body: (Int) async throws -> Result
    ) async throws -> Result {
        try record("port-forward \(target.argument) :\(remotePort)")
        guard case .pod(let name) = target, pods().contains(where: { $0[["metadata", "name"]]?.stringValue == name })
        else {
            throw KubectlError(.portForwardFailed, "no pod for \(target.argument)")
        }
        return try await body(forwardedPort)
    }

    // MARK: Cluster semantics

    /// Stores `object` (with the lock held) as the API server would: keeps server-set fields, allocates a
    /// ClusterIP, bumps resourceVersion only on a change and generation only on a spec change.
    private func store(_ object: JSON, isApply: Bool) throws -> JSON {
        guard let ref = ObjectRef(manifest: object) else { fatalError("not a manifest: \(object)") }
        var new = object.objectValue!
        var metadata = new["metadata"]?.objectValue ?? [:]
        let old = objects[ref]?.objectValue
        let oldMetadata = old?["metadata"]?.objectValue ?? [:]
        if isApply, let annotations = oldMetadata["annotations"]?.objectValue {
            // Server-side apply leaves annotations other managers set (our routing record, say).
            var merged = annotations
            for (key, value) in metadata["annotations"]?.objectValue ?? [:] { merged[key] = value }
            metadata["annotations"] = .object(merged)
        }
        metadata["resourceVersion"] = oldMetadata["resourceVersion"]
        metadata["generation"] = oldMetadata["generation"]
        new["metadata"] = .object(metadata)
        if let old { new["status"] = old["status"] }
        if ref.kind == .service {
            var spec = new["spec"]?.objectValue ?? [:]
            if spec["clusterIP"] == nil {
                spec["clusterIP"] = old?["spec"]?["clusterIP"] ?? .string("10.96.0.\(nextIP)")
                if old == nil { nextIP += 1 }
            }
            new["spec"] = .object(spec)
        }
        if let old, JSON.object(new) == JSON.object(old) { return .object(old) }
        nextResourceVersion += 1
        metadata["resourceVersion"] = .string(String(nextResourceVersion))
        if ref.kind == .deployment, old?["spec"] != new["spec"] {
            metadata["generation"] = .int((oldMetadata["generation"]?.intValue ?? 0) + 1)
        }
        new["metadata"] = .object(metadata)
        objects[ref] = .object(new)
        return .object(new)
    }

    /// One pod per rolled-out Deployment, labelled as its template.
    private func pods() -> [JSON] {
        lock.withLock {
            objects.filter { $0.key.kind == .deployment && $0.value["status"] != nil }.map { ref, deployment in
                [
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": [
                        "name": .string(ref.name + "-5d8f7"),
                        "labels": deployment[["spec", "template", "metadata", "labels"]] ?? [:],
                    ],
                    "status": [
                        "conditions": [["type": "Ready", "status": podReady ? "True" : "False"]],
                        "containerStatuses": [["name": "toxiproxy", "restartCount": .int(podRestarts)]],
                    ],
                ]
            }
        }
    }

    /// Strategic merge for the fields we patch: objects merge, `null` deletes, `hostAliases` merges by
    /// `ip` (with `$patch: delete`), other lists are replaced.
    static func strategicMerge(_ original: JSON, _ patch: JSON) -> JSON {
        guard case .object(let patchMembers) = patch else { return patch }
        var result = original.objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                result[key] = nil
            } else if key == "hostAliases", case .array(let items) = value {
                var list = result[key]?.arrayValue ?? []
                for item in items {
                    let ip = item["ip"]
                    if item["$patch"] == "delete" {
                        list.removeAll { $0["ip"] == ip }
                    } else if let index = list.firstIndex(where: { $0["ip"] == ip }) {
                        list[index] = strategicMerge(list[index], item)
                    } else {
                        list.append(item)
                    }
                }
                result[key] = list.isEmpty ? JSON?.none : .array(list)
            } else if case .object = value {
                let merged = strategicMerge(result[key] ?? [:], value)
                // The API server drops an emptied annotations map.
                result[key] = merged.objectValue?.isEmpty == true && key == "annotations" ? JSON?.none : merged
            } else {
                result[key] = value
            }
        }
        return .object(result)
    }
}
