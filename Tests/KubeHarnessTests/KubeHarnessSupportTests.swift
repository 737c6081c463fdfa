import Foundation
import KubeHarnessSupport
import Testing
import ToxiproxyTestSupport

/// The helpers of KubeHarnessSupport without a cluster: a script stands in for kubectl. These always run.
@Suite(.timeLimit(.minutes(1)))
struct KubeHarnessSupportTests {
    /// A harness whose kubectl is the shell script `script`, in a directory removed afterwards.
    static func withFakeKubectl<T>(_ script: String, _ body: (KubeHarness) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fake-kubectl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let kubectl = directory.appendingPathComponent("kubectl")
        try Data("#!/bin/sh\n\(script)\n".utf8).write(to: kubectl)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: kubectl.path)
        return try await body(KubeHarness(kubeconfig: "/harness/kubeconfig", kubectlExecutable: kubectl))
    }

    @Test
    func fromEnvironmentNeedsTheAdminKubeconfig() {
        #expect(KubeHarness.fromEnvironment([:]) == nil)
        #expect(KubeHarness.fromEnvironment(["KUBE_HARNESS_KUBECONFIG": ""]) == nil)
        let harness = KubeHarness.fromEnvironment([
            "KUBE_HARNESS_KUBECONFIG": "/h/kubeconfig",
            "KUBE_HARNESS_LIMITED_KUBECONFIG": "/h/kubeconfig-limited",
            "KUBECTL": "/opt/k/kubectl",
        ])
        #expect(harness?.kubeconfig == "/h/kubeconfig")
        #expect(harness?.limitedKubeconfig == "/h/kubeconfig-limited")
        #expect(harness?.kubectlExecutable.path == "/opt/k/kubectl")
    }

    @Test
    func kubectlGetsTheKubeconfigFirstAndReportsItsOutput() async throws {
        try await Self.withFakeKubectl(#"echo "args: $*"; echo "boom" >&2; exit 3"#) { harness in
            let result = try await harness.kubectl(["-n", "ns", "get", "pods"])
            #expect(result.status == 3)
            #expect(result.stdout == "args: --kubeconfig /harness/kubeconfig -n ns get pods\n")
            #expect(result.stderr == "boom\n")
            let limited = try await harness.kubectl(["get", "pods"], kubeconfig: "/harness/limited")
            #expect(limited.stdout == "args: --kubeconfig /harness/limited get pods\n")
            await #expect(throws: TestFailure.self) { try await harness.kubectlChecked(["get", "pods"]) }
        }
    }

    @Test
    func aKubectlThatHangsIsKilledAtItsDeadline() async throws {
        try await Self.withFakeKubectl("exec sleep 30") { harness in
            let started = ContinuousClock.now
            await #expect(throws: TestFailure.self) {
                try await harness.kubectl(["get", "pods"], within: .milliseconds(300))
            }
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test
    func portForwardReadsTheLocalPortFromKubectl() async throws {
        let script = #"""
            echo "Forwarding from 127.0.0.1:45678 -> 8474"
            echo "args: $*" >&2
            exec sleep 30
            """#
        try await Self.withFakeKubectl(script) { harness in
            let port = try await harness.withPortForward(namespace: "ns", target: "pod/p", remotePort: 8474) { $0 }
            #expect(port == 45678)
        }
        #expect(KubeHarness.forwardedPort(in: "Forwarding from 127.0.0.1:39201 -> 8474\nHandling connection") == 39201)
        #expect(KubeHarness.forwardedPort(in: "Forwarding from [::1]:39201 -> 8474\n") == nil)
    }

    @Test
    func portForwardThatFailsThrowsWithKubectlsError() async throws {
        try await Self.withFakeKubectl(#"echo 'error: pods "p" not found' >&2; exit 1"#) { harness in
            let error = await #expect(throws: TestFailure.self) {
                try await harness.withPortForward(namespace: "ns", target: "pod/p", remotePort: 8474) { _ in }
            }
            #expect(error?.description.contains(#"pods "p" not found"#) == true, "\(String(describing: error))")
        }
    }

    @Test
    func wildcardListensAreBoundToThePodIP() throws {
        let config = #"[{"name":"a","listen":"0.0.0.0:10443","upstream":"x:443"},{"name":"b","listen":"[::]:1"},"#
            + #"{"name":"c","listen":":2"},{"name":"d","listen":"127.0.0.1:3"}]"#
        let bound = PodStandIns.bindingWildcardListens(config, to: "127.1.0.7")
        let proxies = try #require(try JSONSerialization.jsonObject(with: Data(bound.utf8)) as? [[String: Any]])
        #expect(proxies.map { $0["listen"] as? String } == ["127.1.0.7:10443", "127.1.0.7:1", "127.1.0.7:2", "127.0.0.1:3"])
        #expect(proxies[0]["upstream"] as? String == "x:443")
        #expect(PodStandIns.bindingWildcardListens("not json", to: "127.1.0.7") == "not json")
    }
}
