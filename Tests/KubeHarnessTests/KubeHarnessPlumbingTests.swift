import Foundation
import KubeHarnessSupport
import NIOCore
import Testing
import ToxiproxyTestSupport

/// End to end on the loopback Kubernetes harness: the plumbing the Kubernetes-mode tests of toxictl stand on.
/// A server-side applied ConfigMap and Deployment (the reference image, which never runs), the built
/// `toxiproxy-server` playing the pod's container on its IP, real readiness (`HOLLOW_FAKE_NETWORK_PROBES=real`),
/// a port-forward through apiserver → kubelet → pod IP, traffic to the pod IP, and a rollout onto a new pod.
///
/// Skipped unless `KUBE_HARNESS_KUBECONFIG` names the harness's admin kubeconfig (`.ci/run` starts the harness
/// and sets it).
@Suite(
    .serialized,
    .enabled(if: KubeHarness.isAvailable, Comment(rawValue: KubeHarness.skipReason)),
    .timeLimit(.minutes(3))
)
struct KubeHarnessPlumbingTests {
    static let proxyName = "api_groundlight_ai"
    static let proxyPort = 10443
    static let deployment = "toxiproxy"
    static let selector = "app.kubernetes.io/name=toxiproxy,app.kubernetes.io/managed-by=toxictl"

    let harness = KubeHarness.fromEnvironment()!

    static func manifest(echoPort: Int) -> String {
        let config = #"[{"name":"\#(proxyName)","listen":"0.0.0.0:\#(proxyPort)","upstream":"127.0.0.1:\#(echoPort)","enabled":true}]"#
        return """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: toxiproxy-config
              labels: {app.kubernetes.io/name: toxiproxy, app.kubernetes.io/managed-by: toxictl}
            data:
              toxiproxy.json: '\(config)'
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: \(deployment)
              labels: {app.kubernetes.io/name: toxiproxy, app.kubernetes.io/managed-by: toxictl}
            spec:
              replicas: 1
              selector:
                matchLabels: {app.kubernetes.io/name: toxiproxy, app.kubernetes.io/managed-by: toxictl}
              template:
                metadata:
                  labels: {app.kubernetes.io/name: toxiproxy, app.kubernetes.io/managed-by: toxictl}
                spec:
                  terminationGracePeriodSeconds: 2
                  containers:
                  - name: toxiproxy
                    image: ghcr.io/shopify/toxiproxy:2.12.0
                    args: ["-host=0.0.0.0", "-config=/config/toxiproxy.json"]
                    ports:
                    - {name: api, containerPort: 8474, protocol: TCP}
                    - {name: proxy, containerPort: \(proxyPort), protocol: TCP}
                    readinessProbe:
                      httpGet: {path: /version, port: 8474}
                      periodSeconds: 1
                    volumeMounts:
                    - {name: config, mountPath: /config, readOnly: true}
                  volumes:
                  - name: config
                    configMap: {name: toxiproxy-config}
            """
    }

    /// A fresh namespace with the ConfigMap and Deployment applied, the echo upstream and the stand-ins running.
    /// `beforeStandIns` runs once the manifests are applied, before any stand-in.
    func withDeployedProxy(
        beforeStandIns: @Sendable @escaping (KubeHarness, String) async throws -> Void = { _, _ in },
        _ body: @Sendable @escaping (KubeHarness, String, PodStandIns, Int) async throws -> Void
    ) async throws {
        let harness = self.harness
        try await withEchoServer { echoPort in
            try await harness.withNamespace("kh-plumbing") { namespace in
                try await harness.apply(Self.manifest(echoPort: echoPort), namespace: namespace)
                try await beforeStandIns(harness, namespace)
                try await harness.withPodStandIns(namespace: namespace, selector: Self.selector) { standIns in
                    do {
                        try await body(harness, namespace, standIns, echoPort)
                    } catch {
                        print(standIns.report)
                        throw error
                    }
                }
            }
        }
    }

    static func rolloutStatus(_ harness: KubeHarness, _ namespace: String) async throws -> KubeHarness.Result {
        try await harness.kubectl(
            ["-n", namespace, "rollout", "status", "deploy/\(deployment)", "--timeout=90s"],
            within: .seconds(100)
        )
    }

    /// Sends bytes to `host:port` and returns what comes back once the sender half-closes.
    static func echo(host: String, port: Int, _ text: String) async throws -> String {
        let connection = try await TCPTestClient.connect(host: host, port: port, halfClosable: true)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            outbound.finish()
            var received = ""
            for try await buffer in inbound { received += String(buffer: buffer) }
            return received
        }
    }

    @Test
    func standInBecomesReadyAndAnswersThroughPortForwardAndPodIP() async throws {
        let started = ContinuousClock.now
        try await self.withDeployedProxy { harness, namespace in
            // Readiness is real (HOLLOW_FAKE_NETWORK_PROBES=real): with nothing on the pod IP the pod has an IP
            // and is scheduled, but it does not become Ready, and the rollout does not finish.
            let podIP = try await waitFor(within: .seconds(60), "a pod with an IP in \(namespace)") {
                let ip = try await harness.kubectl([
                    "-n", namespace, "get", "pods", "-l", Self.selector, "-o", "jsonpath={.items[0].status.podIP}",
                ])
                return ip.status == 0 && !ip.stdout.isEmpty ? ip.stdout : nil
            }
            let unready = try await harness.kubectl(
                ["-n", namespace, "rollout", "status", "deploy/\(Self.deployment)", "--timeout=3s"],
                within: .seconds(20)
            )
            #expect(
                unready.status != 0,
                "the rollout finished with nothing listening on \(podIP): is the harness running with HOLLOW_FAKE_NETWORK_PROBES=real? \(unready)"
            )
        } _: { harness, namespace, standIns, _ in
            let rollout = try await Self.rolloutStatus(harness, namespace)
            #expect(rollout.status == 0, "\(rollout)")
            let live = try await standIns.waitUntil("one stand-in") { $0.count == 1 }
            let standIn = live[0]
            #expect(standIn.podIP.hasPrefix("127.1."), "\(standIn)")
            #expect(standIn.mountedConfig.contains(Self.proxyName), "\(standIn.mountedConfig)")

            // The pod is Ready for real: its readiness probe reached the stand-in.
            let ready = try await harness.kubectlChecked([
                "-n", namespace, "get", "pod", standIn.podName,
                "-o", #"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#,
            ])
            #expect(ready.stdout == "True", "\(ready)")

            // apiserver → kubelet → pod IP:8474 reaches our server.
            try await harness.withPortForward(namespace: namespace, target: "pod/\(standIn.podName)", remotePort: 8474) {
                localPort in
                let admin = AdminClient(port: localPort)
                let version = try await admin.get("/version")
                #expect(version.status == 200, "\(version)")
                #expect(!version.body.isEmpty, "\(version)")
                let proxies = try await admin.get("/proxies")
                #expect(proxies.status == 200, "\(proxies)")
                let object = try JSONSerialization.jsonObject(with: Data(proxies.body.utf8)) as? [String: Any]
                let proxy = try #require(object?[Self.proxyName] as? [String: Any], "\(proxies)")
                #expect(proxy["listen"] as? String == "\(standIn.podIP):\(Self.proxyPort)", "\(proxy)")
                #expect(proxy["enabled"] as? Bool == true, "\(proxy)")
            }
            // The deployment as a target works too (kubectl picks its pod).
            try await harness.withPortForward(namespace: namespace, target: "deploy/\(Self.deployment)", remotePort: 8474) {
                localPort in
                let version = try await AdminClient(port: localPort).get("/version")
                #expect(version.status == 200, "\(version)")
            }

            // Traffic to podIP:10443 goes through the stand-in's proxy to the echo upstream.
            let reply = try await Self.echo(host: standIn.podIP, port: Self.proxyPort, "through the pod IP")
            #expect(reply == "through the pod IP")
            #expect(standIns.startedCount == 1, "\(standIns.report)")
        }
        print("KubeHarnessTests: ready, port-forward and pod-IP echo in \(ContinuousClock.now - started)")
    }

    @Test
    func patchingThePodTemplateRollsOutOntoANewStandIn() async throws {
        let started = ContinuousClock.now
        try await self.withDeployedProxy { harness, namespace, standIns, _ in
            let first = try await Self.rolloutStatus(harness, namespace)
            try #require(first.status == 0, "\(first)")
            let old = try await standIns.waitUntil("one stand-in") { $0.count == 1 }[0]

            try await harness.kubectlChecked([
                "-n", namespace, "patch", "deploy/\(Self.deployment)", "--type=merge", "-p",
                #"{"spec":{"template":{"metadata":{"annotations":{"kube-harness.test/restartedAt":"\#(UUID().uuidString)"}}}}}"#,
            ])
            let second = try await Self.rolloutStatus(harness, namespace)
            #expect(second.status == 0, "\(second)")

            // The new pod got its own IP and its own stand-in; the old one was stopped with its pod.
            let live = try await standIns.waitUntil("only a new stand-in, on a new pod") { live in
                live.count == 1 && live[0].podUID != old.podUID
            }
            let new = live[0]
            #expect(new.podIP != old.podIP, "old \(old), new \(new)")
            #expect(standIns.startedCount == 2, "\(standIns.report)")
            #expect(!old.isRunning, "the old stand-in must stop with its pod: \(old)")

            let reply = try await Self.echo(host: new.podIP, port: Self.proxyPort, "through the new pod")
            #expect(reply == "through the new pod")
            let version = try await new.admin.get("/version")
            #expect(version.status == 200, "\(version)")
            print(standIns.report)
        }
        print("KubeHarnessTests: rollout onto a new stand-in in \(ContinuousClock.now - started)")
    }
}
