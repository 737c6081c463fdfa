import Foundation
import KubeHarnessSupport
import NIOCore
import Testing
import ToxiproxyTestSupport

/// Scenarios through the port-forward of a cluster install, on the loopback control plane: the scenario runs
/// on the proxy pod's server, so it keeps running when toxictl's port-forward dies (toxictl re-opens it and
/// resumes following), and its lease restores the proxy when toxictl itself is killed.
///
/// Skipped unless `KUBE_HARNESS_KUBECONFIG` names the harness's admin kubeconfig (`.ci/run` sets it).
@Suite(
    .serialized,
    .enabled(if: KubeHarness.isAvailable, Comment(rawValue: KubeHarness.skipReason)),
    .timeLimit(.minutes(6))
)
struct ToxictlClusterScenarioTests {
    let harness = KubeHarness.fromEnvironment()!

    /// Writes a scenario file of its own and returns its path.
    static func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "toxictl-cluster-scenario-\(UUID().uuidString).yaml"
        )
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func start(_ arguments: [String]) throws -> ProductProcess {
        try ProductProcess.start(
            "toxictl",
            arguments + ["--kubeconfig", self.harness.kubeconfig],
            unsetting: ["TOXIPROXY_URL", "DEPLOYMENT_NAMESPACE"]
        )
    }

    /// The kubectl port-forward children of `process`.
    func portForwards(of process: ProductProcess) async throws -> [Int32] {
        let pgrep = try ProductProcess.start(
            "pgrep",
            ["-P", "\(process.processIdentifier)", "-f", "port-forward"],
            executable: URL(fileURLWithPath: "/usr/bin/pgrep")
        )
        defer { pgrep.cleanUp() }
        _ = try await pgrep.waitForExit(within: .seconds(10))
        return pgrep.completed.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Whether one byte sent through the proxy at `host`:10443 comes back within `window`.
    func echoes(host: String, within window: Duration = .seconds(1)) async -> Bool {
        guard let connection = try? await TCPTestClient.connect(host: host, port: 10443) else { return false }
        return
            (try? await connection.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "x"))
                let watcher = ConnectionWatcher(inbound)
                let echoed = await watcher.waitForBytes(1, timeout: window)
                await watcher.stop()
                return echoed
            }) ?? false
    }

    /// One install, then both checks against it.
    @Test func scenariosSurviveALostPortForwardAndTheLeaseRestoresAfterSIGKILL() async throws {
        try await withEchoServer { echoPort in
            try await self.harness.withNamespace("toxictl-scn") { namespace in
                try await self.harness.apply(
                    ToxictlClusterTests.edgeEndpoint(namespace: namespace),
                    namespace: namespace,
                    fieldManager: "user"
                )
                try await self.harness.kubectlChecked([
                    "-n", namespace, "rollout", "status", "deploy/edge-endpoint", "--timeout=60s",
                ])
                let target = ["-n", namespace, "--host", "localhost:\(echoPort)"]
                try await self.harness.withPodStandIns(namespace: namespace, selector: ToxictlClusterTests.selector) {
                    standIns in
                    let enabled = try await ProductProcess.runToCompletion(
                        "toxictl",
                        ["enable"] + target + ["--kubeconfig", self.harness.kubeconfig],
                        unsetting: ["TOXIPROXY_URL", "DEPLOYMENT_NAMESPACE"],
                        within: .seconds(180)
                    )
                    try #require(enabled.status == 0, "\(enabled)")
                    guard let standIn = standIns.live.first else {
                        Issue.record("no stand-in for the proxy pod: \(standIns.report)")
                        return
                    }
                    #expect(await self.echoes(host: standIn.podIP))
                    let before = try await standIn.admin.get("/proxies")
                    try await self.lostPortForward(target: target, proxyIP: standIn.podIP)
                    try await self.sigkill(target: target, proxyIP: standIn.podIP)
                    let after = try await standIn.admin.get("/proxies")
                    #expect(after.body == before.body, "the server state after both scenarios")
                }
            }
        }
    }

    /// The port-forward killed mid-outage: the outage goes on (the server runs it), toxictl says it re-opens
    /// the forward, follows the rest of the phases, and the scenario completes.
    func lostPortForward(target: [String], proxyIP: String) async throws {
        let path = try Self.file(
            """
            proxies: [localhost]
            lease: {grace: 15s}
            timeline:
              - {name: down, duration: 5s, outage: true}
              - {name: up, duration: 1s}
            """
        )
        let process = try self.start(["scenario", "run", path, "--follow"] + target)
        defer { process.cleanUp() }
        let down = try await process.waitForStdout(within: .seconds(60)) { $0.contains(#""down"  outage"#) }
        try #require(down != nil, "no outage phase: \(process.stdout) \(process.stderr)")
        let forwards = try await self.portForwards(of: process)
        try #require(forwards.count == 1, "port-forwards of toxictl: \(forwards)")
        kill(forwards[0], SIGKILL)
        // The scenario did not stop with the forward: the outage holds.
        #expect(!(await self.echoes(host: proxyIP, within: .milliseconds(300))), "the outage ended with the forward")
        #expect(try await process.waitForExit(within: .seconds(60)), "not finished: \(process.stdout)")
        let result = process.completed
        print("toxictl scenario run (its port-forward killed):\n\(result.stdout)\(result.stderr)")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("the port-forward was lost; re-opening it"), "\(result.stdout)")
        #expect(result.stdout.contains(#"phase 2/2 "up""#), "the phase after the re-open: \(result.stdout)")
        #expect(result.stdout.contains("ended: completed"), "\(result.stdout)")
        #expect(await self.echoes(host: proxyIP))
    }

    /// toxictl killed (SIGKILL) mid-outage: nobody renews the lease, and the server restores the proxy within
    /// grace + 1 s.
    func sigkill(target: [String], proxyIP: String) async throws {
        let path = try Self.file(
            """
            proxies: [localhost]
            lease: {grace: 2s}
            timeline: [{name: down, duration: 60s, outage: true}]
            """
        )
        let process = try self.start(["scenario", "run", path, "--follow"] + target)
        defer { process.cleanUp() }
        let down = try await process.waitForStdout(within: .seconds(60)) { $0.contains(#""down"  outage"#) }
        try #require(down != nil, "no outage phase: \(process.stdout) \(process.stderr)")
        let forwards = try await self.portForwards(of: process)
        #expect(!(await self.echoes(host: proxyIP, within: .milliseconds(300))))
        process.send(signal: SIGKILL)
        let killed = ContinuousClock.now
        // Its kubectl child outlives it; it renews nothing, and goes too.
        for forward in forwards { kill(forward, SIGKILL) }
        var restored = false
        while ContinuousClock.now - killed < .seconds(6) {
            if await self.echoes(host: proxyIP, within: .milliseconds(200)) {
                restored = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = ContinuousClock.now - killed
        print("toxictl killed (SIGKILL) mid-outage, lease grace 2 s: traffic through the proxy again after \(elapsed)")
        #expect(restored, "the proxy is still out \(elapsed) after toxictl was killed")
        #expect(elapsed <= .seconds(3) + .milliseconds(300), "restored \(elapsed) after the kill; the grace is 2 s")
    }
}
