import Foundation
import KubeDeploy
import KubeHarnessSupport
import Testing

/// The workflow with the real kubectl against a real API server (the kube-harness control plane).
/// Runs only when `KUBE_HARNESS_KUBECONFIG` names an admin kubeconfig (and `KUBE_HARNESS_LIMITED_KUBECONFIG`
/// the harness's limited one, for the permission test). The built `toxiproxy-server` plays the proxy pod's
/// container (`withPodStandIns`), so its readiness is real; the configure step only receives the forwarded
/// port (toxictl's own cluster tests drive the server behind it).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["KUBE_HARNESS_KUBECONFIG"] != nil), .serialized)
struct ClusterTests {
    let kubeconfig = ProcessInfo.processInfo.environment["KUBE_HARNESS_KUBECONFIG"] ?? ""
    let namespace = "kd-\(UInt32.random(in: 0...UInt32.max))"

    func kubectl(_ kubeconfig: String? = nil, namespace: String? = nil) -> ProcessKubectl {
        ProcessKubectl(
            options: KubectlOptions(namespace: namespace ?? self.namespace, kubeconfig: kubeconfig ?? self.kubeconfig)
        )
    }

    func userDeployment(namespace: String) -> JSON {
        var deployment = Fixtures.userDeployment(aliases: [["ip": "10.0.0.5", "hostnames": ["db.internal"]]])
            .objectValue!
        deployment["status"] = nil
        deployment["metadata"] = [
            "name": "edge-endpoint", "namespace": .string(namespace), "labels": ["app": "edge-endpoint"],
        ]
        return .object(deployment)
    }

    @Test func enableRerunStatusDisableOnARealAPIServer() async throws {
        let admin = kubectl()
        let context = try await admin.currentContext()
        #expect(!context.context.isEmpty && !context.cluster.isEmpty && context.namespace == namespace)
        _ = try await admin.apply(
            [["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]]],
            dryRun: .none
        )
        defer {
            let namespace = namespace
            let kubeconfig = kubeconfig
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "kubectl", "--kubeconfig=\(kubeconfig)", "delete", "namespace", namespace, "--wait=false",
            ]
            try? process.run()
            process.waitUntilExit()
        }
        _ = try await admin.apply([userDeployment(namespace: namespace)], dryRun: .none)
        try await admin.rolloutStatus(deployment: "edge-endpoint", timeout: .seconds(60)) { _ in }

        let target = try KubeTarget(namespace: namespace, kubeconfig: kubeconfig)
        var installer = Installer(target: target, kubectl: admin)
        installer.proxyRolloutTimeout = .seconds(60)
        installer.targetRolloutTimeout = .seconds(60)

        let dryRun = try await installer.planEnable()
        _ = try await admin.apply(dryRun.manifests, dryRun: .server)
        #expect(try await admin.get(.configMap, name: target.configMapName) == nil)

        let harness = try #require(KubeHarness.fromEnvironment())
        try await harness.withPodStandIns(namespace: namespace, selector: target.labelSelector) { _ in
            let ports = Lines()
            let report = try await installer.enable { ports.append(String($0)) }
            #expect(report.created.count == 4)
            #expect(Int(ports.all.first ?? "") ?? 0 > 0)
            let routed = try #require(try await admin.get(.deployment, name: "edge-endpoint"))
            let ip = try #require(report.routes["api.groundlight.ai"])
            // The API server puts a merged-in entry first; the order of hostAliases does not matter.
            #expect(
                Set(Routing.aliases(of: routed)) == [
                    HostAlias(ip: "10.0.0.5", hostnames: ["db.internal"]),
                    HostAlias(ip: ip, hostnames: ["api.groundlight.ai"]),
                ]
            )
            let generation = routed[["metadata", "generation"]]

            let rerun = try await installer.enable { _ in }
            #expect(rerun.changedNothing)
            #expect(try await admin.get(.deployment, name: "edge-endpoint")?[["metadata", "generation"]] == generation)

            let status = try await installer.status()
            #expect(status.health == .healthy, "\(status.problems)")
        }

        let disabled = try await installer.disable()
        #expect(disabled.wasInstalled && disabled.deleted.count == 4)
        let unrouted = try #require(try await admin.get(.deployment, name: "edge-endpoint"))
        #expect(Routing.aliases(of: unrouted) == [HostAlias(ip: "10.0.0.5", hostnames: ["db.internal"])])
        #expect(unrouted[["metadata", "annotations", RoutingRecord.annotation]] == nil)
        #expect(try await installer.disable().wasInstalled == false)
        #expect(try await installer.status().health == .notInstalled)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["KUBE_HARNESS_LIMITED_KUBECONFIG"] != nil))
    func aLimitedUserIsStoppedInPreflightWithEveryMissingPermission() async throws {
        let limitedConfig = ProcessInfo.processInfo.environment["KUBE_HARNESS_LIMITED_KUBECONFIG"]!
        let limited = kubectl(limitedConfig, namespace: "limited")
        // Server-side apply is a patch, which the limited user may not do: the admin creates the target, and
        // removes it after (other tests use the namespace too).
        let admin = kubectl(namespace: "limited")
        _ = try await admin.apply([userDeployment(namespace: "limited")], dryRun: .none)

        let target = try KubeTarget(namespace: "limited", kubeconfig: limitedConfig)
        let error = try await #require(throws: KubeDeployError.self) {
            try await Installer(target: target, kubectl: limited).enable { _ in }
        }
        #expect(error.code == .permissionsMissing)
        for missing in [
            "patch configmaps", "delete deployments", "create pods/portforward",
            "patch deployments named edge-endpoint",
        ] {
            #expect(error.message.contains(missing))
        }
        #expect(!error.message.contains("create configmaps"))
        #expect(try await limited.list(.configMap, selector: target.labelSelector).isEmpty)
        _ = try await admin.delete(.deployment, name: "edge-endpoint")
    }
}
