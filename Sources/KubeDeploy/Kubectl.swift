/// The kinds of object toxictl reads or changes.
public enum KubeKind: String, Sendable, Hashable, CaseIterable {
    case configMap = "configmaps"
    case deployment = "deployments"
    case service = "services"
    case pod = "pods"

    /// The resource name kubectl takes, e.g. `deployments`.
    public var resource: String { rawValue }

    /// The `kind` field of objects of this kind.
    public var kindName: String {
        switch self {
        case .configMap: "ConfigMap"
        case .deployment: "Deployment"
        case .service: "Service"
        case .pod: "Pod"
        }
    }

    /// The kind of a manifest, from its `kind` field.
    public init?(kindName: String) {
        guard let kind = Self.allCases.first(where: { $0.kindName == kindName }) else { return nil }
        self = kind
    }
}

/// Whether an apply changes the cluster or only asks the API server what it would do.
public enum DryRun: String, Sendable, Hashable {
    case none
    case server
}

public enum PatchType: String, Sendable, Hashable {
    case strategic
    case merge
    case json
}

/// What kubectl acts on: the context and cluster it resolves, and the namespace.
public struct KubeContext: Sendable, Hashable {
    public var context: String
    public var cluster: String
    public var namespace: String

    public init(context: String, cluster: String, namespace: String) {
        self.context = context
        self.cluster = cluster
        self.namespace = namespace
    }
}

/// What a port-forward connects to.
public enum PortForwardTarget: Sendable, Hashable {
    case pod(String)
    case deployment(String)

    /// kubectl's `TYPE/NAME` form.
    public var argument: String {
        switch self {
        case .pod(let name): "pod/\(name)"
        case .deployment(let name): "deployment/\(name)"
        }
    }
}

/// The cluster operations toxictl needs, each small and typed. One value acts on one namespace of one
/// cluster (its context and kubeconfig are fixed when it is made).
///
/// ``ProcessKubectl`` runs the kubectl binary; tests use a fake that keeps cluster state.
public protocol Kubectl: Sendable {
    /// The context and cluster kubectl resolves for this value's options.
    func currentContext() async throws -> KubeContext

    /// Whether the namespace exists. Throws a ``KubectlError`` `forbidden` when the user may not get it.
    func namespaceExists() async throws -> Bool

    /// The object, or nil when it does not exist.
    func get(_ kind: KubeKind, name: String) async throws -> JSON?

    /// The objects of a kind whose labels match `selector` (kubectl `-l`).
    func list(_ kind: KubeKind, selector: String) async throws -> [JSON]

    /// Server-side apply with field manager `toxictl`; returns the objects as the server has them.
    func apply(_ objects: [JSON], dryRun: DryRun) async throws -> [JSON]

    /// Patches an object and returns it as patched.
    func patch(_ kind: KubeKind, name: String, type: PatchType, patch: JSON) async throws -> JSON

    /// Deletes an object; false when it was already gone.
    func delete(_ kind: KubeKind, name: String) async throws -> Bool

    /// Whether the user may `verb` the resource (`auth can-i`), e.g. `create pods`, subresource
    /// `portforward`, or `patch deployments` named `edge-endpoint`.
    func canI(verb: String, resource: String, subresource: String?, name: String?) async throws -> Bool

    /// Waits until the Deployment's rollout has finished, reporting kubectl's progress lines.
    func rolloutStatus(
        deployment: String,
        timeout: Duration,
        progress: @escaping @Sendable (String) -> Void
    ) async throws

    /// Forwards an ephemeral local port on 127.0.0.1 to `remotePort` of the target for the duration of
    /// `body`, which gets the local port; the forward is always torn down when `body` ends or throws.
    func withPortForward<Result: Sendable>(
        to target: PortForwardTarget,
        remotePort: Int,
        _ body: (Int) async throws -> Result
    ) async throws -> Result
}
