import Foundation
import ToxiproxyTestSupport

/// The loopback Kubernetes control plane of `../shared/kube-harness` (see its README), as the tests reach it:
/// started outside the tests (`.ci/run` starts it with `HOLLOW_FAKE_NETWORK_PROBES=real`), found through
/// `KUBE_HARNESS_KUBECONFIG` (admin) and `KUBE_HARNESS_LIMITED_KUBECONFIG` (ServiceAccount
/// `limited/toxictl-limited`), and driven with the real kubectl (`KUBECTL`, else `kubectl` on PATH).
public struct KubeHarness: Sendable {
    /// The admin kubeconfig.
    public let kubeconfig: String
    /// The limited kubeconfig, when `KUBE_HARNESS_LIMITED_KUBECONFIG` is set.
    public let limitedKubeconfig: String?
    /// The kubectl binary every call runs.
    public let kubectlExecutable: URL

    /// The outcome of one kubectl run.
    public struct Result: Sendable, CustomStringConvertible {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var arguments: [String]

        public var description: String {
            "kubectl \(self.arguments.joined(separator: " ")): exit \(self.status), stdout: \(self.stdout), stderr: \(self.stderr)"
        }
    }

    public init(kubeconfig: String, limitedKubeconfig: String? = nil, kubectlExecutable: URL) {
        self.kubeconfig = kubeconfig
        self.limitedKubeconfig = limitedKubeconfig
        self.kubectlExecutable = kubectlExecutable
    }

    /// Why the Kubernetes tests skip when the harness is not there; `.enabled(if: KubeHarness.isAvailable,
    /// KubeHarness.skipReason)`.
    public static let skipReason = """
        KUBE_HARNESS_KUBECONFIG is not set: no Kubernetes harness to test against. Start one with \
        HOLLOW_FAKE_NETWORK_PROBES=real ../shared/kube-harness/start.sh and set KUBE_HARNESS_KUBECONFIG to its \
        admin kubeconfig (.ci/run does both)
        """

    /// Whether `fromEnvironment()` finds a harness.
    public static var isAvailable: Bool {
        Self.fromEnvironment() != nil
    }

    /// The harness named by the environment, or nil when `KUBE_HARNESS_KUBECONFIG` is unset or empty.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> KubeHarness? {
        guard let kubeconfig = environment["KUBE_HARNESS_KUBECONFIG"], !kubeconfig.isEmpty else { return nil }
        let limited = environment["KUBE_HARNESS_LIMITED_KUBECONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        return KubeHarness(
            kubeconfig: kubeconfig,
            limitedKubeconfig: limited,
            kubectlExecutable: Self.locateKubectl(environment)
        )
    }

    /// `KUBECTL`, else the first `kubectl` on PATH, else /usr/bin/kubectl.
    static func locateKubectl(_ environment: [String: String]) -> URL {
        if let path = environment["KUBECTL"], !path.isEmpty {
            if path.contains("/") { return URL(fileURLWithPath: path) }
            if let found = Self.searchPath(path, environment) { return found }
        }
        return Self.searchPath("kubectl", environment) ?? URL(fileURLWithPath: "/usr/bin/kubectl")
    }

    private static func searchPath(_ name: String, _ environment: [String: String]) -> URL? {
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// The `toxiproxy-server` a stand-in runs: `TOXIPROXY_SERVER_BIN` when set (scripts/test sets it for the
    /// compat suite), else the one built with the tests.
    public static func serverBinary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TOXIPROXY_SERVER_BIN"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestFailure("TOXIPROXY_SERVER_BIN=\(path) is not an executable file")
            }
            return URL(fileURLWithPath: path)
        }
        return try ProductProcess.locate("toxiproxy-server")
    }

    // MARK: kubectl

    /// Runs `kubectl --kubeconfig KUBECONFIG ARGS…` (the admin kubeconfig unless `kubeconfig` says otherwise)
    /// to completion. It is killed, and this throws, when it has not exited within `limit`.
    public func kubectl(
        _ arguments: [String],
        kubeconfig: String? = nil,
        within limit: Duration = .seconds(60)
    ) async throws -> Result {
        let fullArguments = ["--kubeconfig", kubeconfig ?? self.kubeconfig] + arguments
        let process = try self.startKubectl(fullArguments)
        defer { process.cleanUp() }
        guard try await process.waitForExit(within: limit) else {
            throw TestFailure(
                "kubectl \(fullArguments.joined(separator: " ")) did not exit within \(limit) (killed); "
                    + "stdout: \(process.stdout) stderr: \(process.stderr)"
            )
        }
        return Result(
            status: process.exitStatus,
            stdout: process.stdout,
            stderr: process.stderr,
            arguments: fullArguments
        )
    }

    /// `kubectl(…)`, throwing with kubectl's output when it exits non-zero.
    @discardableResult
    public func kubectlChecked(
        _ arguments: [String],
        kubeconfig: String? = nil,
        within limit: Duration = .seconds(60)
    ) async throws -> Result {
        let result = try await self.kubectl(arguments, kubeconfig: kubeconfig, within: limit)
        guard result.status == 0 else { throw TestFailure("\(result)") }
        return result
    }

    /// `kubectl apply --server-side --field-manager=FIELDMANAGER -f FILE` of `manifest` (YAML or JSON, several
    /// documents allowed) in `namespace`.
    @discardableResult
    public func apply(
        _ manifest: String,
        namespace: String,
        fieldManager: String = "toxictl",
        within limit: Duration = .seconds(60)
    ) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("kube-harness-apply-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("manifest.yaml")
        try Data(manifest.utf8).write(to: file)
        return try await self.kubectlChecked(
            ["-n", namespace, "apply", "--server-side", "--field-manager=\(fieldManager)", "-f", file.path],
            within: limit
        )
    }

    /// Starts kubectl with exactly `arguments` (no kubeconfig added) as a background process.
    func startKubectl(_ arguments: [String]) throws -> ProductProcess {
        try ProductProcess.start(
            "kubectl",
            arguments,
            executable: self.kubectlExecutable,
            // Everything is on loopback; a proxy of the caller's environment must not get those requests.
            unsetting: ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
        )
    }

    // MARK: Namespaces

    /// Creates a fresh namespace `PREFIX-xxxxxx`, runs `body` with its name, and deletes it afterwards whatever
    /// happens (without waiting for its finalization).
    public func withNamespace<T>(_ prefix: String, _ body: (String) async throws -> T) async throws -> T {
        let suffix = String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        let name = "\(prefix)-\(suffix)"
        try await self.kubectlChecked(["create", "namespace", name])
        do {
            let result = try await body(name)
            try await self.deleteNamespace(name)
            return result
        } catch {
            try? await self.deleteNamespace(name)
            throw error
        }
    }

    private func deleteNamespace(_ name: String) async throws {
        try await self.kubectlChecked(["delete", "namespace", name, "--wait=false"])
    }
}

/// Polls `condition` every `interval` until it returns a value or `limit` passes; throws `failure()` then.
public func waitFor<T>(
    within limit: Duration,
    every interval: Duration = .milliseconds(200),
    _ failure: @autoclosure () -> String,
    _ condition: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        if let value = try await condition() { return value }
        guard ContinuousClock.now < deadline else {
            throw TestFailure("not within \(limit): \(failure())")
        }
        try await Task.sleep(for: interval)
    }
}
