import Foundation
import KubeHarnessSupport
import NIOCore
import Testing
import ToxiproxyTestSupport

/// The whole Kubernetes workflow of toxictl, with the real binary and the real kubectl, on the loopback
/// control plane: enable → status → latency → timeout → outage → flap → status → disable, the cluster checked
/// after each step. The built `toxiproxy-server` plays the proxy pod's container (`PodStandIns`); the "cloud"
/// is an echo server on 127.0.0.1, routed as host `localhost`.
///
/// Skipped unless `KUBE_HARNESS_KUBECONFIG` names the harness's admin kubeconfig (`.ci/run` sets it).
@Suite(
    .serialized,
    .enabled(if: KubeHarness.isAvailable, Comment(rawValue: KubeHarness.skipReason)),
    .timeLimit(.minutes(6))
)
struct ToxictlClusterTests {
    let harness = KubeHarness.fromEnvironment()!
    static let selector = "app.kubernetes.io/instance=toxictl-edge-endpoint"
    static let proxyDeployment = "toxictl-edge-endpoint-proxy"
    /// The user's own alias, which enable and disable must leave alone.
    static let userAlias = #"{"ip":"127.0.0.9","hostnames":["db.internal"]}"#

    /// The user's Deployment, with an alias of its own.
    static func edgeEndpoint(namespace: String) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: edge-endpoint, namespace: \(namespace)}
        spec:
          replicas: 1
          selector: {matchLabels: {app: edge-endpoint}}
          template:
            metadata: {labels: {app: edge-endpoint}}
            spec:
              terminationGracePeriodSeconds: 1
              hostAliases: [\(userAlias)]
              containers: [{name: app, image: example.com/edge-endpoint:1}]
        """
    }

    func toxictl(
        _ arguments: [String],
        within limit: Duration = .seconds(180)
    ) async throws
        -> ProductProcess.Completed
    {
        try await ProductProcess.runToCompletion(
            "toxictl",
            arguments + ["--kubeconfig", self.harness.kubeconfig],
            unsetting: ["TOXIPROXY_URL", "DEPLOYMENT_NAMESPACE"],
            within: limit
        )
    }

    func deployment(_ namespace: String, _ name: String = "edge-endpoint") async throws -> [String: Any] {
        let result = try await self.harness.kubectlChecked(["-n", namespace, "get", "deployment", name, "-o", "json"])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
    }

    func hostAliases(_ namespace: String) async throws -> [String: [String]] {
        let object = try await self.deployment(namespace)
        let spec = ((object["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
        var aliases: [String: [String]] = [:]
        for entry in spec?["hostAliases"] as? [[String: Any]] ?? [] {
            aliases[entry["ip"] as? String ?? "", default: []] += entry["hostnames"] as? [String] ?? []
        }
        return aliases
    }

    func generation(_ namespace: String) async throws -> Int {
        (try await self.deployment(namespace)["metadata"] as? [String: Any])?["generation"] as? Int ?? -1
    }

    /// Objects toxictl made, by kind/name.
    func ourObjects(_ namespace: String) async throws -> [String] {
        let result = try await self.harness.kubectlChecked([
            "-n", namespace, "get", "configmaps,deployments,services", "-l", "app.kubernetes.io/managed-by=toxictl",
            "-o", "name",
        ])
        return result.stdout.split(separator: "\n").map(String.init).sorted()
    }

    /// The edge-endpoint pod of the current rollout: running, ready and not terminating.
    func currentPod(_ namespace: String) async throws -> String {
        let listed = try await self.harness.kubectlChecked([
            "-n", namespace, "get", "pods", "-l", "app=edge-endpoint", "-o", "json",
        ])
        let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        for pod in object?["items"] as? [[String: Any]] ?? [] {
            let metadata = pod["metadata"] as? [String: Any] ?? [:]
            let conditions = (pod["status"] as? [String: Any])?["conditions"] as? [[String: Any]] ?? []
            let ready = conditions.contains { $0["type"] as? String == "Ready" && $0["status"] as? String == "True" }
            if ready, metadata["deletionTimestamp"] == nil, let name = metadata["name"] as? String { return name }
        }
        throw TestFailure("no ready edge-endpoint pod: \(listed.stdout.prefix(2000))")
    }

    /// Milliseconds for one byte to go through the proxy at `host`:10443 and come back.
    func roundTrip(host: String) async throws -> Double {
        let connection = try await TCPTestClient.connect(host: host, port: 10443)
        return try await connection.executeThenClose { inbound, outbound in
            let start = ContinuousClock.now
            try await outbound.write(ByteBuffer(string: "x"))
            var iterator = inbound.makeAsyncIterator()
            guard try await iterator.next() != nil else { throw TestFailure("no echo through the proxy") }
            return milliseconds(since: start)
        }
    }

    @Test func theWholeWorkflowOnARealControlPlane() async throws {
        try await withEchoServer { echoPort in
            try await self.harness.withNamespace("toxictl-e2e") { namespace in
                try await self.harness.apply(
                    Self.edgeEndpoint(namespace: namespace),
                    namespace: namespace,
                    fieldManager: "user"
                )
                try await self.harness.kubectlChecked([
                    "-n", namespace, "rollout", "status", "deploy/edge-endpoint", "--timeout=60s",
                ])
                let target = ["-n", namespace, "--host", "localhost:\(echoPort)"]
                try await self.harness.withPodStandIns(namespace: namespace, selector: Self.selector) { standIns in
                    // enable: installed, configured, routed; the user's alias kept.
                    let enabled = try await self.toxictl(["enable"] + target)
                    #expect(enabled.status == 0, "\(enabled)")
                    #expect(enabled.stdout.hasPrefix("target: context "), "\(enabled.stdout)")
                    let service = try await self.harness.kubectlChecked([
                        "-n", namespace, "get", "service", "toxictl-edge-endpoint-localhost", "-o",
                        "jsonpath={.spec.clusterIP}",
                    ]).stdout
                    var aliases = try await self.hostAliases(namespace)
                    #expect(aliases[service] == ["localhost"], "aliases \(aliases), Service at \(service)")
                    #expect(aliases["127.0.0.9"] == ["db.internal"], "the user's alias: \(aliases)")
                    let pod = try await self.currentPod(namespace)
                    let hosts = try await self.harness.kubectlChecked([
                        "-n", namespace, "exec", pod, "--", "cat", "/etc/hosts",
                    ])
                    #expect(hosts.stdout.contains("\(service)\tlocalhost"), "\(hosts.stdout)")

                    // A re-run changes nothing and starts no rollout.
                    let generation = try await self.generation(namespace)
                    let again = try await self.toxictl(["enable"] + target)
                    #expect(again.status == 0 && again.stdout.contains("nothing to change"), "\(again)")
                    #expect(try await self.generation(namespace) == generation)

                    let status = try await self.toxictl(["status"] + target)
                    #expect(status.status == 0 && status.stdout.contains("health: OK"), "\(status)")
                    // The transcript, for whoever reads the CI log.
                    print(
                        "toxictl enable:\n\(enabled.stdout)\ntoxictl enable (again):\n\(again.stdout)\ntoxictl status:\n\(status.stdout)"
                    )

                    guard let proxyIP = standIns.live.first?.podIP else {
                        Issue.record("no stand-in for the proxy pod: \(standIns.report)")
                        return
                    }
                    let baseline = try await self.roundTrip(host: proxyIP)

                    // latency: traffic through the proxy is measurably slower.
                    let latency = try await self.toxictl(["latency", "enable", "300"] + target)
                    #expect(latency.status == 0, "\(latency)")
                    let slowed = try await self.roundTrip(host: proxyIP)
                    #expect(
                        slowed >= 295 && slowed < baseline + 1_000,
                        "round trip \(slowed) ms, \(baseline) ms before"
                    )
                    #expect(try await self.toxictl(["latency", "disable"] + target).status == 0)

                    // timeout: the data goes nowhere; outage: connections refused; both undone.
                    let timeout = try await self.toxictl(
                        ["timeout", "enable", "--timeout-ms", "0"] + target
                    )
                    #expect(timeout.status == 0 && timeout.stdout.contains("timeout_up"), "\(timeout)")
                    #expect(try await self.toxictl(["timeout", "disable"] + target).status == 0)
                    let outage = try await self.toxictl(["outage", "enable"] + target)
                    #expect(outage.status == 0, "\(outage)")
                    await #expect(throws: (any Error).self) { _ = try await self.roundTrip(host: proxyIP) }
                    #expect(try await self.toxictl(["outage", "disable"] + target).status == 0)
                    #expect(try await self.roundTrip(host: proxyIP) < baseline + 250)

                    let flap = try await self.toxictl(
                        ["flap", "--mode", "refuse", "--up-ms", "300", "--down-ms", "300", "--iterations", "2"]
                            + target
                    )
                    #expect(flap.status == 0 && flap.stdout.contains("flap completed"), "\(flap)")
                    let afterFlap = try await self.toxictl(["status", "-o", "json"] + target)
                    #expect(afterFlap.status == 0 && afterFlap.stdout.contains(#""health":"healthy""#), "\(afterFlap)")

                    // disable: our alias and objects gone, the user's alias kept; twice is fine.
                    let disabled = try await self.toxictl(["disable"] + target)
                    #expect(disabled.status == 0, "\(disabled)")
                    aliases = try await self.hostAliases(namespace)
                    #expect(aliases == ["127.0.0.9": ["db.internal"]], "aliases after disable: \(aliases)")
                    #expect(try await self.ourObjects(namespace).isEmpty)
                    let twice = try await self.toxictl(["disable"] + target)
                    #expect(twice.status == 0 && twice.stdout.contains("nothing to remove"), "\(twice)")
                    let notInstalled = try await self.toxictl(["status"] + target)
                    #expect(
                        notInstalled.status == 0 && notInstalled.stdout.contains("not installed"),
                        "\(notInstalled)"
                    )
                }
            }
        }
    }

    /// Routed to a proxy that is gone: the endpoint is cut off, and status says so with a non-zero exit.
    @Test func statusFlagsAnEndpointRoutedToAMissingProxy() async throws {
        try await withEchoServer { echoPort in
            try await self.harness.withNamespace("toxictl-cut") { namespace in
                try await self.harness.apply(
                    Self.edgeEndpoint(namespace: namespace),
                    namespace: namespace,
                    fieldManager: "user"
                )
                let target = ["-n", namespace, "--host", "localhost:\(echoPort)"]
                try await self.harness.withPodStandIns(namespace: namespace, selector: Self.selector) { _ in
                    let enabled = try await self.toxictl(["enable"] + target)
                    #expect(enabled.status == 0, "\(enabled)")
                }
                try await self.harness.kubectlChecked(["-n", namespace, "delete", "deployment", Self.proxyDeployment])
                let status = try await self.toxictl(["status"] + target)
                print("toxictl status (proxy deleted):\n\(status.stdout)")
                #expect(status.status == 2, "\(status)")
                #expect(status.stdout.contains("BROKEN") && status.stdout.contains("cut off"), "\(status.stdout)")
            }
        }
    }

    /// The harness's limited user may create but not patch, delete or port-forward: enable stops in
    /// pre-flight, names every missing permission, and leaves nothing behind.
    @Test(.enabled(if: KubeHarness.fromEnvironment()?.limitedKubeconfig != nil))
    func enableWithoutPermissionsChangesNothing() async throws {
        let limited = try #require(self.harness.limitedKubeconfig)
        try await self.harness.apply(
            Self.edgeEndpoint(namespace: "limited"),
            namespace: "limited",
            fieldManager: "user"
        )
        let generation = try await self.generation("limited")
        let result = try await ProductProcess.runToCompletion(
            "toxictl",
            ["enable", "-n", "limited", "--kubeconfig", limited],
            unsetting: ["TOXIPROXY_URL", "DEPLOYMENT_NAMESPACE"],
            within: .seconds(120)
        )
        print("toxictl enable (limited user):\n\(result.stdout)\(result.stderr)")
        #expect(result.status == 1, "\(result)")
        for permission in ["patch", "delete", "pods/portforward"] {
            #expect(result.stderr.contains(permission), "\(permission) not named: \(result.stderr)")
        }
        #expect(result.stderr.contains("kind: Role"), "no Role to grant them: \(result.stderr)")
        #expect(try await self.ourObjects("limited").isEmpty)
        #expect(try await self.generation("limited") == generation)
        try await self.harness.kubectlChecked([
            "-n", "limited", "delete", "deployment", "edge-endpoint", "--wait=false",
        ])
    }
}
