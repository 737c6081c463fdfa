import Foundation
import KubeDeploy
import Testing

/// The workflow against a fake cluster: what enable, disable and status do, and that a failure at any
/// step leaves the cluster as it was.
@Suite struct InstallerTests {
    let target = Fixtures.target()
    let userAlias: JSON = ["ip": "10.0.0.5", "hostnames": ["db.internal"]]

    func cluster(aliases: [JSON] = []) -> FakeKubectl {
        FakeKubectl(objects: [Fixtures.userDeployment(aliases: aliases), Fixtures.userConfigMap])
    }

    func installer(_ kubectl: FakeKubectl) -> Installer { Installer(target: target, kubectl: kubectl) }

    func enable(
        _ kubectl: FakeKubectl,
        configure: @escaping (Int) async throws -> Void = { _ in }
    ) async throws
        -> EnableReport
    {
        try await installer(kubectl).enable(configureProxies: configure)
    }

    @Test func enableInstallsConfiguresThenRoutes() async throws {
        let kubectl = cluster(aliases: [userAlias])
        let ports = Lines()
        let report = try await enable(kubectl) { port in
            // Routing must not have happened yet when the proxies are configured.
            #expect(kubectl.calls.contains { $0.hasPrefix("patch") } == false)
            ports.append(String(port))
        }
        #expect(ports.all == [String(kubectl.forwardedPort)])
        #expect(
            report.created.map(\.description) == [
                "ConfigMap/toxictl-edge-endpoint-proxy-config", "Deployment/toxictl-edge-endpoint-proxy",
                "Service/toxictl-edge-endpoint-proxy-admin", "Service/toxictl-edge-endpoint-api-groundlight-ai",
            ]
        )
        let ip = try #require(
            kubectl[.service, "toxictl-edge-endpoint-api-groundlight-ai"]?[["spec", "clusterIP"]]?.stringValue
        )
        #expect(report.routes == ["api.groundlight.ai": ip])
        #expect(report.routingChanged)
        let deployment = try #require(kubectl[.deployment, "edge-endpoint"])
        #expect(
            Routing.aliases(of: deployment) == [
                HostAlias(ip: "10.0.0.5", hostnames: ["db.internal"]),
                HostAlias(ip: ip, hostnames: ["api.groundlight.ai"]),
            ]
        )
        #expect(try RoutingRecord(deployment: deployment).routes == ["api.groundlight.ai": ip])
        #expect(deployment[["metadata", "generation"]] == 2)
        let mutating = kubectl.calls.filter { !$0.hasPrefix("get") && !$0.hasPrefix("can-i") && !$0.hasPrefix("list") }
        #expect(
            mutating == [
                "apply ConfigMap/toxictl-edge-endpoint-proxy-config",
                "apply Deployment/toxictl-edge-endpoint-proxy",
                "apply Service/toxictl-edge-endpoint-proxy-admin,Service/toxictl-edge-endpoint-api-groundlight-ai",
                "rollout toxictl-edge-endpoint-proxy",
                "port-forward pod/toxictl-edge-endpoint-proxy-5d8f7 :8474",
                "patch deployments/edge-endpoint",
                "rollout edge-endpoint",
            ]
        )
        #expect(try await installer(kubectl).status().health == .healthy)
    }

    @Test func aRerunChangesNothingAndStartsNoRollout() async throws {
        let kubectl = cluster()
        _ = try await enable(kubectl)
        let before = kubectl.snapshot
        let generation = kubectl[.deployment, "edge-endpoint"]?[["metadata", "generation"]]
        let callsBefore = kubectl.calls.count
        let report = try await enable(kubectl)
        #expect(report.changedNothing)
        #expect(kubectl.snapshot == before)
        #expect(kubectl[.deployment, "edge-endpoint"]?[["metadata", "generation"]] == generation)
        let rerunCalls = kubectl.calls.dropFirst(callsBefore)
        #expect(!rerunCalls.contains("patch deployments/edge-endpoint"))
        #expect(!rerunCalls.contains("rollout edge-endpoint"))
    }

    @Test func preflightReportsEveryMissingPermissionAndChangesNothing() async throws {
        let kubectl = cluster()
        kubectl.denied = ["create pods/portforward", "patch deployments named edge-endpoint", "create services"]
        let before = kubectl.snapshot
        let error = try await #require(throws: KubeDeployError.self) { try await enable(kubectl) }
        #expect(error.code == .permissionsMissing)
        for missing in kubectl.denied { #expect(error.message.contains(missing)) }
        #expect(error.message.contains("kind: Role"))
        #expect(error.message.contains("- pods/portforward"))
        #expect(error.message.contains("resourceNames:"))
        #expect(kubectl.snapshot == before)
        #expect(!kubectl.calls.contains { $0.hasPrefix("apply") || $0.hasPrefix("patch") })
    }

    @Test func preflightNamesAMissingNamespaceOrDeployment() async throws {
        let noNamespace = cluster()
        noNamespace.namespaceExistsAnswer = false
        #expect(
            try await #require(throws: KubeDeployError.self) { try await enable(noNamespace) }.code
                == .namespaceNotFound
        )
        let noDeployment = FakeKubectl()
        #expect(
            try await #require(throws: KubeDeployError.self) { try await enable(noDeployment) }.code
                == .deploymentNotFound
        )
        #expect(noDeployment.snapshot.isEmpty)
    }

    @Test func aUserWhoMayNotGetTheNamespaceIsNotStoppedByIt() async throws {
        let kubectl = cluster()
        kubectl.namespaceForbidden = true
        #expect(try await enable(kubectl).routingChanged)
    }

    @Test func aUserAliasForOurHostStopsEnableBeforeAnyChange() async throws {
        let kubectl = cluster(aliases: [["ip": "1.2.3.4", "hostnames": ["api.groundlight.ai"]]])
        let before = kubectl.snapshot
        let error = try await #require(throws: KubeDeployError.self) { try await enable(kubectl) }
        #expect(error.code == .routingConflict)
        #expect(kubectl.snapshot == before)
    }

    /// The calls at which each step of enable can fail.
    static let enableFailures: [String] = [
        "apply ConfigMap", "apply Deployment", "apply Service", "rollout toxictl-edge-endpoint-proxy",
        "port-forward", "configure", "patch deployments/edge-endpoint", "rollout edge-endpoint",
    ]

    @Test(arguments: enableFailures)
    func aFailedEnableLeavesTheClusterAsItWas(failingCall: String) async throws {
        let kubectl = cluster(aliases: [userAlias])
        let before = kubectl.snapshot
        kubectl.failOnce { $0.hasPrefix(failingCall) }
        let error = try await #require(throws: KubeDeployError.self) {
            try await enable(kubectl) { _ in
                if failingCall == "configure" { throw FakeKubectl.InjectedFailure(call: "configure") }
            }
        }
        #expect(error.code == .enableFailed)
        #expect(error.message.contains("rolled back") || error.message.contains("nothing to roll back"))
        #expect(!error.message.contains("could NOT undo"))
        kubectl.failOn(nil)
        #expect(kubectl.snapshot == before)
    }

    @Test(arguments: enableFailures)
    func aFailedRerunKeepsWhatExistedBefore(failingCall: String) async throws {
        let kubectl = cluster()
        _ = try await enable(kubectl)
        let before = kubectl.snapshot
        kubectl.failOnce { $0.hasPrefix(failingCall) }
        _ = try? await enable(kubectl) { _ in
            if failingCall == "configure" { throw FakeKubectl.InjectedFailure(call: "configure") }
        }
        kubectl.failOn(nil)
        #expect(kubectl.snapshot == before)
    }

    @Test func aFailedRolloutAfterRoutingUnroutesThenDeletes() async throws {
        let kubectl = cluster()
        kubectl.failOn { $0 == "rollout edge-endpoint" }
        let events = Events()
        let error = try await #require(throws: KubeDeployError.self) {
            try await installer(kubectl).enable(progress: { events.append($0) }, configureProxies: { _ in })
        }
        #expect(error.message.contains("at step targetRollout"))
        // The unrouting rollout failed too (same injected failure), so the proxy is kept and the error says so.
        #expect(error.message.contains("could NOT undo"))
        #expect(Routing.aliases(of: kubectl[.deployment, "edge-endpoint"]!).isEmpty)
        #expect(kubectl[.deployment, "toxictl-edge-endpoint-proxy"] != nil)
        #expect(events.all.contains(.rolledBack("restored the hostAliases of Deployment edge-endpoint")))
    }

    @Test func disableUnroutesWaitsThenDeletesOnlyOurs() async throws {
        let kubectl = cluster(aliases: [userAlias])
        let original = kubectl.snapshot
        _ = try await enable(kubectl)
        let callsBefore = kubectl.calls.count
        let report = try await installer(kubectl).disable()
        #expect(report.wasInstalled)
        #expect(report.unrouted.keys.sorted() == ["api.groundlight.ai"])
        #expect(report.deleted.count == 4)
        #expect(kubectl.snapshot == original)
        let calls = Array(kubectl.calls.dropFirst(callsBefore))
        let patch = try #require(calls.firstIndex(of: "patch deployments/edge-endpoint"))
        let rollout = try #require(calls.firstIndex(of: "rollout edge-endpoint"))
        let firstDelete = try #require(calls.firstIndex { $0.hasPrefix("delete") })
        #expect(patch < rollout && rollout < firstDelete)
    }

    @Test func disableTwiceIsNotAnError() async throws {
        let kubectl = cluster()
        _ = try await enable(kubectl)
        _ = try await installer(kubectl).disable()
        let callsBefore = kubectl.calls.count
        let again = try await installer(kubectl).disable()
        #expect(!again.wasInstalled)
        #expect(again.deleted.isEmpty)
        #expect(!kubectl.calls.dropFirst(callsBefore).contains { $0.hasPrefix("patch") || $0.hasPrefix("rollout") })
        #expect(try await installer(kubectl).status().health == .notInstalled)
    }

    @Test func disableWithoutRoutingStartsNoRollout() async throws {
        let kubectl = cluster()
        kubectl.failOn { $0 == "patch deployments/edge-endpoint" }
        _ = try? await enable(kubectl)
        kubectl.failOn(nil)
        // Install the objects alone, as a run interrupted before routing would leave them.
        _ = try await kubectl.apply(ProxyManifests(target: target).all, dryRun: .none)
        let callsBefore = kubectl.calls.count
        let report = try await installer(kubectl).disable()
        #expect(report.wasInstalled && report.unrouted.isEmpty && report.deleted.count == 4)
        #expect(!kubectl.calls.dropFirst(callsBefore).contains { $0.hasPrefix("patch") || $0.hasPrefix("rollout") })
    }

    @Test(arguments: ["patch deployments/edge-endpoint", "rollout edge-endpoint", "list services"])
    func aFailedDisableBeforeDeletingLeavesTheClusterAsItWas(failingCall: String) async throws {
        let kubectl = cluster(aliases: [userAlias])
        _ = try await enable(kubectl)
        let before = kubectl.snapshot
        kubectl.failOn { $0.hasPrefix(failingCall) }
        await #expect(throws: (any Error).self) { try await installer(kubectl).disable() }
        kubectl.failOn(nil)
        if failingCall == "list services" {
            // Unrouted and rolled out already: a re-run finishes the job.
            _ = try await installer(kubectl).disable()
            #expect(kubectl.snapshot == cluster(aliases: [userAlias]).snapshot)
        } else {
            #expect(kubectl.snapshot == before)
        }
    }

    @Test func aDeleteFailingPartWayIsFinishedByARerun() async throws {
        let kubectl = cluster()
        let original = kubectl.snapshot
        _ = try await enable(kubectl)
        kubectl.failOn { $0.hasPrefix("delete Deployment") }
        await #expect(throws: (any Error).self) { try await installer(kubectl).disable() }
        kubectl.failOn(nil)
        let report = try await installer(kubectl).disable()
        #expect(report.wasInstalled)
        #expect(kubectl.snapshot == original)
    }

    @Test func statusFlagsRoutingToAMissingOrUnreadyProxy() async throws {
        let kubectl = cluster()
        _ = try await enable(kubectl)
        kubectl.podReady = false
        var status = try await installer(kubectl).status()
        #expect(status.health == .broken)
        #expect(status.problems.first?.contains("cut off from the cloud") == true)
        kubectl.podReady = true
        kubectl.delete(ObjectRef(.deployment, target.proxyDeploymentName))
        status = try await installer(kubectl).status()
        #expect(status.health == .broken)
        #expect(status.missing == [ObjectRef(.deployment, target.proxyDeploymentName)])
    }

    @Test func statusFlagsAliasesThatNoLongerMatchTheService() async throws {
        let kubectl = cluster()
        _ = try await enable(kubectl)
        let service = try #require(kubectl[.service, target.hosts[0].serviceName])
        kubectl.delete(ObjectRef(.service, target.hosts[0].serviceName))
        var fresh = service.objectValue!
        fresh["spec"] = .object(service["spec"]!.objectValue!.filter { $0.key != "clusterIP" })
        fresh["metadata"] = ["name": service[["metadata", "name"]]!, "labels": service[["metadata", "labels"]]!]
        kubectl.put(.object(fresh))
        let status = try await installer(kubectl).status()
        #expect(status.health == .broken)
        #expect(status.routes.first?.pointsAtService == false)
        // Enable repairs it: the alias moves to the Service's new ClusterIP.
        _ = try await enable(kubectl)
        #expect(try await installer(kubectl).status().health == .healthy)
    }

    @Test func statusWarnsThatARestartDroppedTheToxics() async throws {
        let kubectl = cluster()
        _ = try await enable(kubectl)
        kubectl.podRestarts = 2
        let status = try await installer(kubectl).status()
        #expect(status.health == .healthy)
        #expect(status.pods.first?.restartCount == 2)
        #expect(status.warnings.first?.contains("toxics added before a restart are gone") == true)
        let json = try JSON(parsing: String(decoding: try JSONEncoder().encode(status), as: UTF8.self))
        #expect(json["health"] == "healthy")
        #expect(json["installed"] == true)
        #expect(json["present"]?.arrayValue?.first == "ConfigMap/toxictl-edge-endpoint-proxy-config")
        #expect(json["routes"]?.arrayValue?.first?["host"] == "api.groundlight.ai")
        #expect(json["pods"]?.arrayValue?.first?["restartCount"] == 2)
    }

    @Test func statusOfAnInstallThatIsNotRoutedIsDegraded() async throws {
        let kubectl = cluster()
        _ = try await kubectl.apply(ProxyManifests(target: target).all, dryRun: .none)
        try await kubectl.rolloutStatus(deployment: target.proxyDeploymentName, timeout: .seconds(1)) { _ in }
        let status = try await installer(kubectl).status()
        #expect(status.health == .degraded)
        #expect(status.installed)
    }

    @Test func theAdminForwardGoesToAReadyProxyPodOrSaysWhyNot() async throws {
        let kubectl = cluster()
        let notInstalled = try await #require(throws: KubeDeployError.self) {
            try await installer(kubectl).withAdminPortForward { $0 }
        }
        #expect(notInstalled.code == .notInstalled)
        _ = try await enable(kubectl)
        #expect(try await installer(kubectl).withAdminPortForward { $0 } == kubectl.forwardedPort)
        kubectl.podReady = false
        let unready = try await #require(throws: KubeDeployError.self) {
            try await installer(kubectl).withAdminPortForward { $0 }
        }
        #expect(unready.code == .proxyNotReady)
    }

    @Test func dryRunPlansChangeNothing() async throws {
        let kubectl = cluster(aliases: [userAlias])
        let before = kubectl.snapshot
        let plan = try await installer(kubectl).planEnable()
        #expect(plan.manifests == ProxyManifests(target: target).all)
        let patchAliases = plan.routingPatch?[["spec", "template", "spec", "hostAliases"]]
        #expect(
            patchAliases == [
                [
                    "ip": "<ClusterIP of Service toxictl-edge-endpoint-api-groundlight-ai>",
                    "hostnames": ["api.groundlight.ai"],
                ]
            ]
        )
        #expect(plan.calls.contains("patch deployment/edge-endpoint --type=strategic (hostAliases)"))
        let yaml = plan.yaml(target: target)
        #expect(yaml.hasPrefix("---\napiVersion: v1\n"))
        #expect(yaml.contains("# strategic-merge patch of deployment/edge-endpoint"))
        #expect(kubectl.calls.allSatisfy { $0.hasPrefix("get") })
        #expect(kubectl.snapshot == before)

        _ = try await enable(kubectl)
        let rerun = try await installer(kubectl).planEnable()
        #expect(rerun.routingPatch == nil)
        let disable = try await installer(kubectl).planDisable()
        #expect(disable.manifests.count == 4)
        #expect(disable.routingPatch?[["spec", "template", "spec", "hostAliases"]]?.arrayValue?.count == 1)
        #expect(disable.calls.last?.hasPrefix("delete ") == true)
    }
}

final class Events: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [InstallEvent] = []
    func append(_ event: InstallEvent) { lock.withLock { events.append(event) } }
    var all: [InstallEvent] { lock.withLock { events } }
}
