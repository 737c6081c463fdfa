/// Where and what toxictl installs: the namespace and cluster, the Deployment whose traffic is routed
/// through the proxy, the cloud hosts it routes, and the proxy image.
public struct KubeTarget: Sendable, Hashable {
    public static let defaultDeployment = "edge-endpoint"
    public static let defaultHost = "api.groundlight.ai:443"
    public static let defaultImage = "ghcr.io/shopify/toxiproxy:2.12.0"
    /// Toxiproxy's admin API port, inside the proxy pod.
    public static let adminPort = 8474
    /// The listen port of the first routed host's proxy; the next hosts take the following ports.
    public static let firstListenPort = 10443

    public var namespace: String
    /// kubectl's `--context`; nil for the kubeconfig's current context.
    public var context: String?
    /// kubectl's `--kubeconfig`; nil for kubectl's own default (`KUBECONFIG` or `~/.kube/config`).
    public var kubeconfig: String?
    /// The Deployment whose pods get the hostAliases.
    public var deployment: String
    public var hosts: [RoutedHost]
    public var image: String

    /// - Parameter hosts: `HOST:PORT` (or `HOST`, port 443) of each cloud host to route, in order.
    /// - Throws: ``KubeDeployError`` with code `invalidTarget` for a bad name, host or duplicate.
    public init(
        namespace: String,
        context: String? = nil,
        kubeconfig: String? = nil,
        deployment: String = KubeTarget.defaultDeployment,
        hosts: [String] = [KubeTarget.defaultHost],
        image: String = KubeTarget.defaultImage
    ) throws {
        guard KubeName.isValidLabel(namespace) else {
            throw KubeDeployError(.invalidTarget, "namespace '\(namespace)' is not a valid Kubernetes name")
        }
        guard KubeName.isValidSubdomain(deployment) else {
            throw KubeDeployError(.invalidTarget, "Deployment name '\(deployment)' is not a valid Kubernetes name")
        }
        guard !hosts.isEmpty else { throw KubeDeployError(.invalidTarget, "at least one host must be routed") }
        guard !image.isEmpty, !image.contains(where: \.isWhitespace) else {
            throw KubeDeployError(.invalidTarget, "image '\(image)' is not a valid image reference")
        }
        self.namespace = namespace
        self.context = context
        self.kubeconfig = kubeconfig
        self.deployment = deployment
        self.image = image
        var routed: [RoutedHost] = []
        for (index, spec) in hosts.enumerated() {
            let host = try RoutedHost(spec, index: index, deployment: deployment)
            if let clash = routed.first(where: { $0.host == host.host || $0.proxyName == host.proxyName }) {
                // One hostname can resolve to one address only, and proxy and Service names must differ.
                throw KubeDeployError(
                    .invalidTarget,
                    "hosts '\(clash.host):\(clash.port)' and '\(host.host):\(host.port)' cannot both be routed"
                        + " (same hostname or same proxy name '\(host.proxyName)')"
                )
            }
            routed.append(host)
        }
        self.hosts = routed
    }

    /// The `app.kubernetes.io/instance` label value, unique per target Deployment so that two installs in
    /// one namespace never select each other's pods.
    public var instance: String { KubeName.make("toxictl", deployment) }
    public var proxyDeploymentName: String { KubeName.make("toxictl", deployment, "proxy") }
    public var configMapName: String { KubeName.make("toxictl", deployment, "proxy-config") }
    public var adminServiceName: String { KubeName.make("toxictl", deployment, "proxy-admin") }

    /// The labels on every object we create, and the proxy pods' selector.
    public var labels: [String: String] {
        [
            "app.kubernetes.io/name": "toxiproxy",
            "app.kubernetes.io/managed-by": "toxictl",
            "app.kubernetes.io/instance": instance,
        ]
    }

    /// ``labels`` as a kubectl `-l` selector.
    public var labelSelector: String {
        labels.keys.sorted().map { "\($0)=\(labels[$0]!)" }.joined(separator: ",")
    }
}

/// One cloud host routed through the proxy: its own proxy, listen port and ClusterIP Service.
public struct RoutedHost: Sendable, Hashable {
    /// The hostname the target's pods resolve through hostAliases, e.g. `api.groundlight.ai`.
    public var host: String
    /// The port clients dial, e.g. 443; the Service listens on it.
    public var port: Int
    /// The Toxiproxy proxy name: the hostname with every non-alphanumeric character replaced by `_`.
    public var proxyName: String
    /// The proxy's listen port in the pod: 10443 for the first host, 10444 for the next, and so on.
    public var listenPort: Int
    /// The ClusterIP Service that maps `port` to `listenPort`.
    public var serviceName: String

    /// `host:port` of the real upstream.
    public var upstream: String { "\(host):\(port)" }

    init(_ spec: String, index: Int, deployment: String) throws {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else {
            throw KubeDeployError(.invalidTarget, "host '\(spec)' must be HOST or HOST:PORT")
        }
        let host = String(parts[0]).lowercased()
        var port = 443
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (1...65535).contains(parsed) else {
                throw KubeDeployError(.invalidTarget, "host '\(spec)': port must be between 1 and 65535")
            }
            port = parsed
        }
        // hostAliases only makes sense for names; an IP literal is dialled without resolving anything.
        guard KubeName.isValidHostname(host), host.contains(where: \.isLetter) else {
            throw KubeDeployError(.invalidTarget, "host '\(spec)' is not a DNS hostname")
        }
        self.host = host
        self.port = port
        self.proxyName = String(host.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        self.listenPort = KubeTarget.firstListenPort + index
        self.serviceName = KubeName.make("toxictl", deployment, host)
    }
}
