import Foundation
import Testing
import ToxiproxyTestSupport

/// Choosing a cluster target, checked without a cluster: bad combinations are usage errors (exit 64) before
/// anything runs, and a kubectl that fails is reported with its own words and a non-zero exit.
@Suite
struct ToxictlClusterTargetTests {
    @Test(
        arguments: [
            (["status", "-n", "edge", "--admin-url", "http://127.0.0.1:1"], "--admin-url and --namespace"),
            (["latency", "enable", "10", "--context", "prod"], "--context applies to a cluster target"),
            (["status", "--kubeconfig", "/tmp/k"], "--kubeconfig applies to a cluster target"),
            (["outage", "enable", "--host", "api.example.com:443"], "--host applies to a cluster target"),
            (["enable", "--image", "example.com/toxiproxy:1"], "--image applies to a cluster target"),
            (["enable", "-n", "edge", "--listen", "0.0.0.0:1"], "--listen and --upstream apply to a server target"),
            (["status", "-n", "Not_A_Name"], "namespace 'Not_A_Name' is not a valid Kubernetes name"),
            (["enable", "-n", "edge", "--host", "10.0.0.1:443"], "is not a DNS hostname"),
        ]
    )
    func badCombinationsAreUsageErrors(arguments: [String], message: String) async throws {
        let result = try await Toxictl.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result)")
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty, "\(arguments): printed before validating: \(result.stdout)")
    }

    /// `$DEPLOYMENT_NAMESPACE` selects the cluster, and kubectl's own error reaches the operator: here a
    /// kubectl that cannot reach its API server, as on a laptop whose VPN is down.
    @Test(arguments: [["status"], ["latency", "enable", "100"], ["enable", "--dry-run"], ["disable"]])
    func anUnreachableClusterIsReportedWithKubectlsOwnWords(command: [String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fake-kubectl-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("kubectl")
        try """
        #!/bin/sh
        echo "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?" >&2
        exit 1
        """.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let path = directory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try await Toxictl.run(command, environment: ["DEPLOYMENT_NAMESPACE": "edge", "PATH": path])
        #expect(result.status == 1, "\(command): \(result)")
        #expect(result.stderr.contains("The connection to the server 127.0.0.1:1 was refused"), "\(result.stderr)")
    }

    /// Linked as `kubectl-toxictl` on PATH, it runs as `kubectl toxictl ...` (kubectl's plugin convention:
    /// kubectl finds the executable by name and passes every argument after the plugin name through).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl")))
    func itRunsAsAKubectlPlugin() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let toxictl = try ProductProcess.locate("toxictl")
        try FileManager.default.createSymbolicLink(
            at: directory.appendingPathComponent("kubectl-toxictl"),
            withDestinationURL: toxictl
        )
        let path = directory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let process = try ProductProcess.start(
            "kubectl",
            ["toxictl", "status", "-n", "edge", "--admin-url", "http://127.0.0.1:1"],
            executable: URL(fileURLWithPath: "/usr/bin/kubectl"),
            environment: ["PATH": path],
            unsetting: ["KUBECONFIG", "DEPLOYMENT_NAMESPACE", "TOXIPROXY_URL"]
        )
        defer { process.cleanUp() }
        #expect(try await process.waitForExit(within: .seconds(10)))
        // toxictl itself answered: its own usage error for -n with --admin-url, through kubectl.
        #expect(process.completed.status == 64, "\(process.completed)")
        #expect(process.completed.stderr.contains("--admin-url and --namespace"), "\(process.completed)")
    }
}
