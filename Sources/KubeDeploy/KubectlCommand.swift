/// The options every kubectl call carries: which cluster, which namespace, and how long to wait.
public struct KubectlOptions: Sendable, Hashable {
    public var namespace: String
    public var context: String?
    public var kubeconfig: String?
    /// kubectl's `--request-timeout` for each API request.
    public var requestTimeout: Duration
    /// Added to a call's own time limit to get the process deadline, after which kubectl is killed.
    public var deadlineMargin: Duration

    public init(
        namespace: String,
        context: String? = nil,
        kubeconfig: String? = nil,
        requestTimeout: Duration = .seconds(30),
        deadlineMargin: Duration = .seconds(10)
    ) {
        self.namespace = namespace
        self.context = context
        self.kubeconfig = kubeconfig
        self.requestTimeout = requestTimeout
        self.deadlineMargin = deadlineMargin
    }

    public init(target: KubeTarget, requestTimeout: Duration = .seconds(30)) {
        self.init(
            namespace: target.namespace,
            context: target.context,
            kubeconfig: target.kubeconfig,
            requestTimeout: requestTimeout
        )
    }
}

/// One kubectl invocation as a value: its exact arguments, its standard input, and its deadline.
/// Built without running anything, so the argv is unit-testable.
public struct KubectlCommand: Sendable, Hashable {
    /// The arguments after the kubectl binary.
    public var arguments: [String]
    /// Text for kubectl's standard input (the manifests of `apply -f -`).
    public var input: String?
    /// When the process is killed.
    public var deadline: Duration

    init(
        _ options: KubectlOptions,
        namespaced: Bool = true,
        requestTimeout: Duration? = nil,
        sendsRequestTimeout: Bool = true,
        _ verb: [String]
    ) {
        let requestTimeout = requestTimeout ?? options.requestTimeout
        var arguments: [String] = []
        if let context = options.context { arguments.append("--context=\(context)") }
        if let kubeconfig = options.kubeconfig { arguments.append("--kubeconfig=\(kubeconfig)") }
        if sendsRequestTimeout { arguments.append("--request-timeout=\(Self.kubectlDuration(requestTimeout))") }
        arguments += verb
        if namespaced { arguments += ["-n", options.namespace] }
        self.arguments = arguments
        self.input = nil
        self.deadline = requestTimeout + options.deadlineMargin
    }

    public static func configView(_ options: KubectlOptions) -> Self {
        Self(options, namespaced: false, ["config", "view", "--minify", "-o", "json"])
    }

    public static func getNamespace(_ options: KubectlOptions) -> Self {
        Self(options, namespaced: false, ["get", "namespace", options.namespace, "--ignore-not-found", "-o", "json"])
    }

    public static func get(_ options: KubectlOptions, kind: KubeKind, name: String) -> Self {
        Self(options, ["get", kind.resource, name, "--ignore-not-found", "-o", "json"])
    }

    public static func list(_ options: KubectlOptions, kind: KubeKind, selector: String) -> Self {
        Self(options, ["get", kind.resource, "-l", selector, "-o", "json"])
    }

    public static func apply(_ options: KubectlOptions, objects: [JSON], dryRun: DryRun) -> Self {
        var verb = ["apply", "--server-side", "--field-manager=toxictl", "-o", "json", "-f", "-"]
        if dryRun == .server { verb.append("--dry-run=server") }
        var command = Self(options, verb)
        command.input = JSON.object(["apiVersion": "v1", "kind": "List", "items": .array(objects)]).jsonText
        return command
    }

    public static func patch(
        _ options: KubectlOptions,
        kind: KubeKind,
        name: String,
        type: PatchType,
        patch: JSON
    ) -> Self {
        Self(
            options,
            [
                "patch", kind.resource, name, "--type=\(type.rawValue)", "--field-manager=toxictl", "-o", "json",
                "-p", patch.jsonText,
            ]
        )
    }

    public static func delete(_ options: KubectlOptions, kind: KubeKind, name: String) -> Self {
        Self(options, ["delete", kind.resource, name, "--ignore-not-found", "-o", "name"])
    }

    public static func canI(
        _ options: KubectlOptions,
        verb: String,
        resource: String,
        subresource: String?,
        name: String?
    ) -> Self {
        var arguments = ["auth", "can-i", verb, name.map { "\(resource)/\($0)" } ?? resource]
        if let subresource { arguments.append("--subresource=\(subresource)") }
        return Self(options, arguments)
    }

    /// `rollout status` watches for up to `timeout`; its request timeout is raised to match so the watch
    /// itself is not cut short.
    public static func rolloutStatus(_ options: KubectlOptions, deployment: String, timeout: Duration) -> Self {
        let requestTimeout = max(options.requestTimeout, timeout + .seconds(5))
        return Self(
            options,
            requestTimeout: requestTimeout,
            ["rollout", "status", "deployment/\(deployment)", "--watch=true", "--timeout=\(kubectlDuration(timeout))"]
        )
    }

    /// `port-forward` to an ephemeral local port on loopback only. It has no `--request-timeout`, which
    /// would also bound the long-lived stream; `--pod-running-timeout` bounds the wait for the pod, and the
    /// deadline bounds the start, until kubectl prints the port.
    public static func portForward(_ options: KubectlOptions, target: PortForwardTarget, remotePort: Int) -> Self {
        Self(
            options,
            sendsRequestTimeout: false,
            [
                "port-forward", "--address", "127.0.0.1",
                "--pod-running-timeout=\(kubectlDuration(options.requestTimeout))", target.argument, ":\(remotePort)",
            ]
        )
    }

    /// Whole seconds, rounded up, as kubectl's duration flags take them.
    static func kubectlDuration(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(seconds + (attoseconds > 0 ? 1 : 0))s"
    }
}
