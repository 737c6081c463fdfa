import ArgumentParser
import KubeDeploy
import ToxiproxyClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which admin API and which proxy a command acts on: a server's admin URL, or the Toxiproxy that toxictl
/// installs in a Kubernetes namespace, reached through one `kubectl port-forward` per run.
struct TargetOptions: ParsableArguments {
    static let defaultAdminURL = "http://127.0.0.1:8474"

    @Option(
        name: .customLong("admin-url"),
        help: ArgumentHelp(
            "Toxiproxy admin API URL (default: $TOXIPROXY_URL, else \(Self.defaultAdminURL)).",
            valueName: "url"
        )
    )
    var adminURL: String?

    @Option(
        name: .customLong("proxy"),
        help: ArgumentHelp(
            "The proxy to act on (default: api_groundlight_ai; with -n, the first --host's proxy).",
            valueName: "name"
        )
    )
    var proxyOption: String?

    /// The proxy in force: `--proxy`, else the first routed host's in a cluster, else `api_groundlight_ai`.
    var proxy: String {
        if let proxyOption { return proxyOption }
        if case .cluster(let target, _) = try? self.mode() { return target.hosts[0].proxyName }
        return "api_groundlight_ai"
    }

    @Option(
        name: [.customShort("n"), .customLong("namespace")],
        help: ArgumentHelp(
            "Act on the cluster: the namespace toxictl installs into (default: $DEPLOYMENT_NAMESPACE).",
            valueName: "namespace"
        )
    )
    var namespace: String?

    @Option(help: ArgumentHelp("kubectl context (default: the kubeconfig's current one).", valueName: "name"))
    var context: String?

    @Option(help: ArgumentHelp("kubeconfig file (default: kubectl's own, $KUBECONFIG).", valueName: "path"))
    var kubeconfig: String?

    @Option(
        help: ArgumentHelp(
            "The Deployment whose traffic is routed through the proxy (default: \(KubeTarget.defaultDeployment)).",
            valueName: "name"
        )
    )
    var deployment: String?

    @Option(
        name: .customLong("host"),
        help: ArgumentHelp(
            "A cloud host the Deployment's traffic to is routed through its own proxy; repeat for more "
                + "(default: \(KubeTarget.defaultHost)).",
            valueName: "host:port"
        )
    )
    var hosts: [String] = []

    /// Where the commands act.
    enum Mode {
        case adminURL(url: String, source: String)
        case cluster(KubeTarget, source: String)
    }

    /// The target in force: `--admin-url`, else `-n`, else `$DEPLOYMENT_NAMESPACE`, else `$TOXIPROXY_URL`,
    /// else the local default.
    func mode(image: String = KubeTarget.defaultImage) throws -> Mode {
        if let adminURL { return .adminURL(url: adminURL, source: "--admin-url") }
        if let (namespace, source) = self.resolvedNamespace {
            let target = try KubeTarget(
                namespace: namespace,
                context: self.context,
                kubeconfig: self.kubeconfig,
                deployment: self.deployment ?? KubeTarget.defaultDeployment,
                hosts: self.hosts.isEmpty ? [KubeTarget.defaultHost] : self.hosts,
                image: image
            )
            return .cluster(target, source: source)
        }
        if let value = environment("TOXIPROXY_URL") { return .adminURL(url: value, source: "$TOXIPROXY_URL") }
        return .adminURL(url: Self.defaultAdminURL, source: "default")
    }

    private var resolvedNamespace: (String, String)? {
        if let namespace { return (namespace, "-n") }
        return environment("DEPLOYMENT_NAMESPACE").map { ($0, "$DEPLOYMENT_NAMESPACE") }
    }

    /// The target as `-o json` names it: the admin URL, or `namespace/deployment` of a cluster install.
    var jsonTarget: String {
        switch try? self.mode() {
        case .adminURL(let url, _): (try? ToxiproxyClient.normalise(url)) ?? url
        case .cluster(let target, _): "\(target.namespace)/\(target.deployment)"
        case nil: ""
        }
    }

    mutating func validate() throws {
        guard self.proxyOption?.isEmpty != true else { throw ValidationError("--proxy must not be empty.") }
        if self.adminURL != nil && self.namespace != nil {
            throw ValidationError(
                "--admin-url and --namespace pick two different targets: give --admin-url to talk to a server "
                    + "directly, or -n to act on the Toxiproxy installed in a namespace."
            )
        }
        let clusterOptions = [
            ("--context", self.context != nil), ("--kubeconfig", self.kubeconfig != nil),
            ("--deployment", self.deployment != nil), ("--host", !self.hosts.isEmpty),
        ].filter(\.1).map(\.0)
        let mode: Mode
        do {
            mode = try self.mode()
        } catch let error as KubeDeployError {
            throw ValidationError("\(error.message).")
        }
        switch mode {
        case .adminURL(let url, _):
            if let option = clusterOptions.first {
                throw ValidationError(
                    "\(option) applies to a cluster target: give -n NAMESPACE (or set $DEPLOYMENT_NAMESPACE)."
                )
            }
            do {
                _ = try ToxiproxyClient.normalise(url)
            } catch {
                throw ValidationError("\(error.message). Give a URL such as \(Self.defaultAdminURL).")
            }
        case .cluster:
            break
        }
    }

    /// The line every command prints first: what it is about to act on. For a cluster, kubectl names the
    /// context and cluster.
    func targetLine() async throws -> String {
        try await self.targetLine(subject: "proxy \(self.proxy)")
    }

    /// The target line ending with `subject` (`proxy NAME`, `proxies a, b`), or with the server alone when nil.
    func targetLine(subject: String?) async throws -> String {
        let suffix = subject.map { ", \($0)" } ?? ""
        switch try self.mode() {
        case .adminURL(let url, let source):
            let normalised = (try? ToxiproxyClient.normalise(url)) ?? url
            return "target: \(normalised) (\(source))\(suffix)"
        case .cluster(let target, let source):
            let context = try await Self.kubectl(for: target).currentContext()
            return "target: context \(context.context), cluster \(context.cluster), namespace \(target.namespace) "
                + "(\(source)), deployment \(target.deployment)\(suffix)"
        }
    }

    /// The options that name this target again, for the follow-up commands toxictl suggests (empty when the
    /// target came from the environment or the default, which the next command finds the same way).
    var repeatedArguments: String {
        var arguments: [String] = []
        if let adminURL { arguments += ["--admin-url", adminURL] }
        if let namespace { arguments += ["-n", namespace] }
        if let context { arguments += ["--context", context] }
        if let kubeconfig { arguments += ["--kubeconfig", kubeconfig] }
        if let deployment { arguments += ["--deployment", deployment] }
        return arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.map { " " + $0 }.joined()
    }

    /// Whether commands reach the server through a port-forward (which can drop and be re-opened).
    var isCluster: Bool {
        if case .cluster = try? self.mode() { return true }
        return false
    }

    /// Runs `body` with a client for the target over one keep-alive connection; for a cluster, over one
    /// port-forward to a ready proxy pod of this install, once the server there is confirmed to be it.
    func withClient<Result: Sendable>(_ body: (ToxiproxyClient) async throws -> Result) async throws -> Result {
        switch try self.mode() {
        case .adminURL(let url, _):
            return try await ToxiproxyClient.withClient(baseURL: url, body)
        case .cluster(let target, _):
            return try await Self.installer(for: target).withAdminPortForward { port in
                try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(port)") { client in
                    try await ClusterIdentity(target: target).confirm(client)
                    return try await body(client)
                }
            }
        }
    }

    /// Runs `body` with the admin API's base URL, for callers that need more than one connection to it at once
    /// (a stream of events and calls beside it); for a cluster, over one confirmed port-forward.
    func withAdminBaseURL<Result: Sendable>(_ body: (String) async throws -> Result) async throws -> Result {
        switch try self.mode() {
        case .adminURL(let url, _):
            return try await body(try ToxiproxyClient.normalise(url))
        case .cluster(let target, _):
            return try await Self.installer(for: target).withAdminPortForward { port in
                let baseURL = "http://127.0.0.1:\(port)"
                try await ToxiproxyClient.withClient(baseURL: baseURL) { client in
                    try await ClusterIdentity(target: target).confirm(client)
                }
                return try await body(baseURL)
            }
        }
    }

    static func kubectl(for target: KubeTarget) -> ProcessKubectl {
        ProcessKubectl(options: KubectlOptions(target: target))
    }

    static func installer(for target: KubeTarget) -> Installer {
        Installer(target: target, kubectl: Self.kubectl(for: target))
    }
}

private func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// `-o text|json`.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: "Output format: text for people, json for scripts."
    )
    var format: Format = .text
}

/// `--dry-run` on every command that changes something.
struct DryRunOptions: ParsableArguments {
    @Flag(
        help: """
            Print what would change and change nothing: the admin API calls, and with -n the manifests and \
            the patch as YAML and the Kubernetes API calls. Reads still happen.
            """
    )
    var dryRun = false
}
