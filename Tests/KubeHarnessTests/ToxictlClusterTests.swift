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

    /// Runs a refuse flap of 3 × (400 ms up, 400 ms down) and kills its kubectl port-forward once the first
    /// DOWN phase has begun; returns how it ended and the due time of every phase it reported.
    func flapKillingItsPortForward(
        _ target: [String]
    ) async throws -> (completed: ProductProcess.Completed, dueTimes: [Int]) {
        let process = try ProductProcess.start(
            "toxictl",
            ["flap", "--mode", "refuse", "--up-ms", "400", "--down-ms", "400", "--iterations", "3"] + target
                + ["--kubeconfig", self.harness.kubeconfig],
            unsetting: ["TOXIPROXY_URL", "DEPLOYMENT_NAMESPACE"]
        )
        defer { process.cleanUp() }
        let down = try await process.waitForStdout(within: .seconds(60)) { $0.contains("cycle 1/3  DOWN") }
        try #require(down != nil, "no DOWN phase: \(process.stdout) \(process.stderr)")
        let pgrep = try ProductProcess.start(
            "pgrep",
            ["-P", "\(process.processIdentifier)", "-f", "port-forward"],
            executable: URL(fileURLWithPath: "/usr/bin/pgrep")
        )
        defer { pgrep.cleanUp() }
        _ = try await pgrep.waitForExit(within: .seconds(10))
        let children = pgrep.completed
        let forwards = children.stdout.split(separator: "\n").compactMap { Int32($0) }
        try #require(forwards.count == 1, "port-forwards of toxictl: \(children)")
        kill(forwards[0], SIGKILL)
        #expect(try await process.waitForExit(within: .seconds(60)), "the flap did not end: \(process.stdout)")
        let dueTimes = process.stdout.split(separator: "\n").compactMap { line -> Int? in
            guard let range = line.range(of: "(due +") else { return nil }
            let seconds = line[range.upperBound...].prefix { $0 != "," }.dropLast()
            return Double(seconds).map { Int(($0 * 1000).rounded()) }
        }
        return (process.completed, dueTimes)
    }

    /// Runs an endless timeout flap and sends it SIGTERM once its first DOWN phase has begun.
    func flapStoppedBySIGTERM(_ target: [String]) async throws -> ProductProcess.Completed {
        let process = try ProductProcess.start(
            "toxictl",
            ["flap", "--mode", "timeout", "--up-ms", "300", "--down-ms", "5000"] + target
                + ["--kubeconfig", self.harness.kubeconfig],
            unsetting: ["TOXIPROXY_URL", "DEPLOYMENT_NAMESPACE"]
        )
        defer { process.cleanUp() }
        let down = try await process.waitForStdout(within: .seconds(60)) { $0.contains("cycle 1  DOWN") }
        try #require(down != nil, "no DOWN phase: \(process.stdout) \(process.stderr)")
        process.send(signal: SIGTERM)
        #expect(try await process.waitForExit(within: .seconds(30)), "the flap did not stop: \(process.stdout)")
        return process.completed
    }

    /// Whether a byte sent through the proxy gets no echo within `window` (a timeout toxic holds it).
    func noEcho(host: String, within window: Duration) async throws -> Bool {
        let connection = try await TCPTestClient.connect(host: host, port: 10443)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "x"))
            let watcher = ConnectionWatcher(inbound)
            let echoed = await watcher.waitForBytes(1, timeout: window)
            await watcher.stop()
            return !echoed
        }
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
                    #expect(
                        try await self.noEcho(host: proxyIP, within: .milliseconds(800)),
                        "data went through a timeout"
                    )
                    #expect(try await self.toxictl(["timeout", "disable"] + target).status == 0)
                    let outage = try await self.toxictl(["outage", "enable"] + target)
                    #expect(outage.status == 0, "\(outage)")
                    await #expect(throws: (any Error).self) { _ = try await self.roundTrip(host: proxyIP) }
                    #expect(try await self.toxictl(["outage", "disable"] + target).status == 0)
                    #expect(try await self.roundTrip(host: proxyIP) < baseline + 250)

                    // flap: its port-forward killed mid-run is re-opened, and the schedule does not move.
                    let flap = try await self.flapKillingItsPortForward(target)
                    print("toxictl flap (its port-forward killed):\n\(flap.completed.stdout)\(flap.completed.stderr)")
                    #expect(flap.completed.status == 0, "\(flap.completed)")
                    #expect(
                        flap.completed.stdout.contains("the port-forward was lost; re-opening it"),
                        "\(flap.completed.stdout)"
                    )
                    #expect(flap.completed.stdout.contains("flap completed"), "\(flap.completed.stdout)")
                    #expect(flap.dueTimes == [0, 400, 800, 1200, 1600, 2000], "phases due at \(flap.dueTimes)")
                    // SIGTERM mid-flap: restored through the live forward, exit 128 + 15.
                    let stopped = try await self.flapStoppedBySIGTERM(target)
                    #expect(stopped.status == 143 && stopped.stdout.contains("restored"), "\(stopped)")
                    let afterFlap = try await self.toxictl(["status", "-o", "json"] + target)
                    #expect(afterFlap.status == 0 && afterFlap.stdout.contains(#""health":"healthy""#), "\(afterFlap)")
                    #expect(
                        afterFlap.stdout.contains(#""enabled":true"#) && afterFlap.stdout.contains(#""toxics":[]"#),
                        "not restored after the flaps: \(afterFlap.stdout)"
                    )

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

    /// Routed to a proxy whose pod was deleted and whose new pod never becomes ready (nothing plays it any
    /// more): the endpoint is cut off, and status says so with a non-zero exit.
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
                try await self.harness.kubectlChecked([
                    "-n", namespace, "delete", "pods", "-l", Self.selector, "--wait=false",
                ])
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
        // The namespace outlives the test (the harness made it): start from no Deployment of anyone's.
        try await self.harness.kubectlChecked([
            "-n", "limited", "delete", "deployment", "edge-endpoint", "--ignore-not-found",
        ])
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
