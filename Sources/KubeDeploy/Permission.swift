/// One operation an install needs, as `kubectl auth can-i` checks it.
public struct Permission: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    /// The resource, e.g. `deployments`.
    public var resource: String
    public var subresource: String?
    /// A single object, e.g. the target Deployment; nil for any object of the resource.
    public var name: String?

    public init(_ verb: String, _ resource: String, subresource: String? = nil, name: String? = nil) {
        self.verb = verb
        self.resource = resource
        self.subresource = subresource
        self.name = name
    }

    /// E.g. `create pods/portforward`, `patch deployments/edge-endpoint`.
    public var description: String {
        "\(verb) \(resource)\(subresource.map { "/\($0)" } ?? "")\(name.map { " named \($0)" } ?? "")"
    }

    var apiGroup: String { resource == "deployments" ? "apps" : "" }

    /// Everything enable, disable and status do. Delete is included because a failed enable rolls back
    /// by deleting what it created; watch on deployments because `kubectl rollout status` watches (without
    /// it kubectl falls back to re-listing with back-off, and each rollout is seen seconds late).
    public static func required(for target: KubeTarget) -> [Permission] {
        var permissions: [Permission] = []
        for resource in ["configmaps", "deployments", "services"] {
            for verb in ["get", "list", "create", "patch", "delete"] { permissions.append(Permission(verb, resource)) }
        }
        permissions += [
            Permission("watch", "deployments"),
            Permission("patch", "deployments", name: target.deployment),
            Permission("get", "pods"),
            Permission("list", "pods"),
            Permission("create", "pods", subresource: "portforward"),
        ]
        return permissions
    }

    /// A namespaced Role that grants `permissions`, ready to apply.
    public static func role(granting permissions: [Permission], namespace: String, name: String = "toxictl") -> JSON {
        struct Key: Hashable {
            var apiGroup: String
            var resource: String
            var name: String?
        }
        var order: [Key] = []
        var verbs: [Key: [String]] = [:]
        for permission in permissions {
            let resource = permission.resource + (permission.subresource.map { "/\($0)" } ?? "")
            let key = Key(apiGroup: permission.apiGroup, resource: resource, name: permission.name)
            if verbs[key] == nil { order.append(key) }
            if verbs[key]?.contains(permission.verb) != true { verbs[key, default: []].append(permission.verb) }
        }
        let rules: [JSON] = order.map { key in
            var rule: [String: JSON] = [
                "apiGroups": [.string(key.apiGroup)],
                "resources": [.string(key.resource)],
                "verbs": .array(verbs[key]!.map { .string($0) }),
            ]
            if let name = key.name { rule["resourceNames"] = [.string(name)] }
            return .object(rule)
        }
        return [
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "rules": .array(rules),
        ]
    }
}
