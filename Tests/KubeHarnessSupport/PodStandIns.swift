import Foundation
import NIOConcurrencyHelpers
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `toxiproxy-server` playing one pod's container: bound to the pod's IP (127.1.x.y) with the config
/// the pod mounts. The harness runs no containers, so this is what its readiness probe, its port-forward and
/// any traffic to the pod IP reach.
public struct PodStandIn: Sendable, CustomStringConvertible {
    public let podName: String
    public let podUID: String
    public let podIP: String
    public let adminPort: Int
    /// The config file as the pod mounts it (before any rewriting).
    public let mountedConfig: String
    let process: ProductProcess

    public var pid: Int32 { self.process.processIdentifier }
    public var isRunning: Bool { self.process.isRunning }
    public var stdout: String { self.process.stdout }
    public var stderr: String { self.process.stderr }
    /// The stand-in's admin API, straight to the pod IP (not through a port-forward).
    public var admin: AdminClient { AdminClient(port: self.adminPort, host: self.podIP) }

    public var description: String { "\(self.podName) \(self.podIP) pid \(self.pid)" }
}

/// The stand-ins of the pods that a label selector matches in one namespace, kept in step with the cluster by
/// a poll every 200 ms (see `KubeHarness.withPodStandIns`).
///
/// For each new pod that has a pod IP and is not being deleted, the config is read with
/// `kubectl exec POD -- cat CONFIGPATH` (retried on each poll until it works), written to a temporary file and
/// served by `toxiproxy-server -host PODIP -port ADMINPORT -config FILE`. A stand-in is stopped (SIGTERM) once
/// its pod is gone or is being deleted, as the kubelet stops a container; one that exits by itself while its pod
/// lives is started again (at most `maximumRestarts` times), as the kubelet restarts a container.
public final class PodStandIns: Sendable {
    public let namespace: String
    public let selector: String
    public let adminPort: Int
    public let configPath: String
    public let serverBinary: URL
    /// Whether a proxy `listen` on every interface (`0.0.0.0:P`, `[::]:P`, `:P`) becomes `PODIP:P` in the file
    /// the stand-in serves. In a cluster each pod has its own network namespace; here all stand-ins share the
    /// host's, so two pods of a rollout would otherwise fight over the same port.
    public let bindsWildcardListenToPodIP: Bool
    public let maximumRestarts = 5
    let harness: KubeHarness

    private struct Pending {
        var firstSeen = ContinuousClock.now
        var attempts = 0
        var lastError = ""
    }

    private struct State {
        var live: [String: PodStandIn] = [:]  // by pod UID
        var startedCount = 0
        var pending: [String: Pending] = [:]
        var restarts: [String: Int] = [:]
        var events: [String] = []
        var lastPollError = ""
    }

    private let state = NIOLockedValueBox(State())
    private let started = ContinuousClock.now

    init(
        harness: KubeHarness,
        namespace: String,
        selector: String,
        adminPort: Int,
        configPath: String,
        serverBinary: URL,
        bindsWildcardListenToPodIP: Bool
    ) {
        self.harness = harness
        self.namespace = namespace
        self.selector = selector
        self.adminPort = adminPort
        self.configPath = configPath
        self.serverBinary = serverBinary
        self.bindsWildcardListenToPodIP = bindsWildcardListenToPodIP
    }

    /// The stand-ins running now, by pod name. One whose pod is gone stays here until it has exited.
    public var live: [PodStandIn] {
        self.state.withLockedValue { Array($0.live.values) }.sorted { $0.podName < $1.podName }
    }

    /// How many stand-ins were started in all (a rollout adds one per new pod; restarts count too).
    public var startedCount: Int { self.state.withLockedValue { $0.startedCount } }

    /// What happened, in order: starts, stops, exits, and why a pod has no stand-in yet.
    public var events: [String] { self.state.withLockedValue { $0.events } }

    /// Everything known, for a failure message.
    public var report: String {
        let (events, pending, lastPollError) = self.state.withLockedValue {
            ($0.events, $0.pending.values.map(\.lastError), $0.lastPollError)
        }
        var lines = ["stand-ins for \(self.selector) in \(self.namespace): live \(self.live), started \(self.startedCount)"]
        lines += events.map { "  \($0)" }
        lines += pending.filter { !$0.isEmpty }.map { "  pending: \($0)" }
        if !lastPollError.isEmpty { lines.append("  last poll error: \(lastPollError)") }
        for standIn in self.live {
            lines.append("  \(standIn.podName) stderr: \(standIn.stderr.suffix(2000))")
        }
        return lines.joined(separator: "\n")
    }

    /// Waits until `condition` holds for the live stand-ins; returns them. Throws with `report` after `limit`.
    @discardableResult
    public func waitUntil(
        within limit: Duration = .seconds(60),
        _ description: String,
        _ condition: ([PodStandIn]) -> Bool
    ) async throws -> [PodStandIn] {
        try await waitFor(within: limit, "\(description)\n\(self.report)") {
            let live = self.live
            return condition(live) ? live : nil
        }
    }

    // MARK: The poll

    func run() async {
        while !Task.isCancelled {
            await self.pollOnce()
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private struct Pod {
        var name: String
        var uid: String
        var ip: String
    }

    private func pollOnce() async {
        let listing: KubeHarness.Result
        do {
            listing = try await self.harness.kubectl(
                ["-n", self.namespace, "get", "pods", "-l", self.selector, "-o", "json"],
                within: .seconds(20)
            )
        } catch {
            if !Task.isCancelled { self.state.withLockedValue { $0.lastPollError = "\(error)" } }
            return
        }
        guard listing.status == 0, let pods = Self.runningPods(listing.stdout) else {
            self.state.withLockedValue { $0.lastPollError = "\(listing)" }
            return
        }
        let current = Set(pods.map(\.uid))

        // Pods gone or being deleted: stop their stand-ins (they stay in `live` until they have exited).
        // Stand-ins that exited on their own: note it.
        let (gone, exited) = self.state.withLockedValue { state in
            let gone = state.live.values.filter { !current.contains($0.podUID) }
            let exited = state.live.values.filter { current.contains($0.podUID) && !$0.isRunning }
            for standIn in exited { state.live[standIn.podUID] = nil }
            for uid in state.pending.keys where !current.contains(uid) { state.pending[uid] = nil }
            for standIn in exited {
                state.restarts[standIn.podUID, default: 0] += 1
                state.events.append(
                    "\(self.elapsed) \(standIn.podName): stand-in pid \(standIn.pid) exited "
                        + "(\(standIn.process.exitStatus)) by itself; stderr: \(standIn.stderr.suffix(1000))"
                )
            }
            return (gone, exited)
        }
        for standIn in gone {
            await Self.stop(standIn)
            self.state.withLockedValue { $0.live[standIn.podUID] = nil }
            self.note("\(standIn.podName): pod gone or terminating, stand-in pid \(standIn.pid) stopped")
        }
        for standIn in exited { standIn.process.cleanUp() }

        // New pods (or ones whose stand-in exited): read the mounted config and start one.
        for pod in pods {
            let needed = self.state.withLockedValue { state in
                state.live[pod.uid] == nil && state.restarts[pod.uid, default: 0] <= self.maximumRestarts
            }
            guard needed, !Task.isCancelled else { continue }
            await self.start(pod)
        }
    }

    private func start(_ pod: Pod) async {
        let config: String
        do {
            let read = try await self.harness.kubectl(
                ["-n", self.namespace, "exec", pod.name, "--", "cat", self.configPath],
                within: .seconds(20)
            )
            guard read.status == 0 else {
                self.notePending(pod, "cannot read \(self.configPath) yet: \(read)")
                return
            }
            config = read.stdout
        } catch {
            self.notePending(pod, "cannot read \(self.configPath) yet: \(error)")
            return
        }
        let served = self.bindsWildcardListenToPodIP ? Self.bindingWildcardListens(config, to: pod.ip) : config
        do {
            let process = try ProductProcess.start("toxiproxy-server", executable: self.serverBinary) { directory in
                let file = directory.appendingPathComponent("toxiproxy.json")
                try Data(served.utf8).write(to: file)
                return ["-host", pod.ip, "-port", "\(self.adminPort)", "-config", file.path]
            }
            let standIn = PodStandIn(
                podName: pod.name,
                podUID: pod.uid,
                podIP: pod.ip,
                adminPort: self.adminPort,
                mountedConfig: config,
                process: process
            )
            self.state.withLockedValue { state in
                state.live[pod.uid] = standIn
                state.pending[pod.uid] = nil
                state.startedCount += 1
            }
            self.note("\(pod.name): stand-in pid \(process.processIdentifier) started on \(pod.ip):\(self.adminPort)")
        } catch {
            self.notePending(pod, "cannot start \(self.serverBinary.path): \(error)")
        }
    }

    /// Stops every stand-in (the end of the scope).
    func stopAll() async {
        let all = self.state.withLockedValue { state in
            let all = Array(state.live.values)
            state.live = [:]
            return all
        }
        for standIn in all {
            await Self.stop(standIn)
            self.note("\(standIn.podName): scope ended, stand-in pid \(standIn.pid) stopped")
        }
    }

    private static func stop(_ standIn: PodStandIn) async {
        if standIn.isRunning {
            standIn.process.send(signal: SIGTERM)
            // Not cancellable: the poller may be cancelled while it stops one.
            let deadline = ContinuousClock.now + .seconds(5)
            while standIn.isRunning && ContinuousClock.now < deadline {
                usleep(10_000)
            }
        }
        standIn.process.cleanUp()
    }

    private var elapsed: String {
        let elapsed = (ContinuousClock.now - self.started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        return String(format: "[%6.2fs]", seconds)
    }

    private func note(_ event: String) {
        let line = "\(self.elapsed) \(event)"
        self.state.withLockedValue { $0.events.append(line) }
    }

    private func notePending(_ pod: Pod, _ error: String) {
        self.state.withLockedValue { state in
            state.pending[pod.uid, default: Pending()].attempts += 1
            state.pending[pod.uid, default: Pending()].lastError = "\(pod.name): \(error)"
        }
    }

    // MARK: Parsing

    /// The pods of a `kubectl get pods -o json` listing that have an IP, are not being deleted and have not
    /// finished; nil when the listing does not parse.
    private static func runningPods(_ json: String) -> [Pod]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let items = object["items"] as? [[String: Any]]
        else { return nil }
        return items.compactMap { item in
            let metadata = item["metadata"] as? [String: Any] ?? [:]
            let status = item["status"] as? [String: Any] ?? [:]
            guard let name = metadata["name"] as? String, let uid = metadata["uid"] as? String,
                let ip = status["podIP"] as? String, !ip.isEmpty,
                metadata["deletionTimestamp"] == nil,
                !["Succeeded", "Failed"].contains(status["phase"] as? String ?? "")
            else { return nil }
            return Pod(name: name, uid: uid, ip: ip)
        }
    }

    /// `config` (a Toxiproxy config: an array of proxies) with each `listen` on every interface bound to `ip`
    /// instead; unchanged when it does not parse.
    public static func bindingWildcardListens(_ config: String, to ip: String) -> String {
        guard var proxies = try? JSONSerialization.jsonObject(with: Data(config.utf8)) as? [[String: Any]] else {
            return config
        }
        for index in proxies.indices {
            guard let listen = proxies[index]["listen"] as? String else { continue }
            for wildcard in ["0.0.0.0:", "[::]:", ":"] where listen.hasPrefix(wildcard) {
                proxies[index]["listen"] = ip + ":" + listen.dropFirst(wildcard.count)
                break
            }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: proxies, options: [.sortedKeys]) else {
            return config
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension KubeHarness {
    /// Plays the containers of the pods that `selector` matches in `namespace` for the duration of `body` (see
    /// `PodStandIns`), then stops every stand-in, whatever happens.
    /// - Parameter serverBinary: the `toxiproxy-server` to run; `KubeHarness.serverBinary()` by default.
    public func withPodStandIns<T>(
        namespace: String,
        selector: String,
        adminPort: Int = 8474,
        configPath: String = "/config/toxiproxy.json",
        serverBinary: URL? = nil,
        bindsWildcardListenToPodIP: Bool = true,
        _ body: (PodStandIns) async throws -> T
    ) async throws -> T {
        let standIns = PodStandIns(
            harness: self,
            namespace: namespace,
            selector: selector,
            adminPort: adminPort,
            configPath: configPath,
            serverBinary: try serverBinary ?? Self.serverBinary(),
            bindsWildcardListenToPodIP: bindsWildcardListenToPodIP
        )
        let poller = Task { await standIns.run() }
        do {
            let result = try await body(standIns)
            poller.cancel()
            await poller.value
            await standIns.stopAll()
            return result
        } catch {
            poller.cancel()
            await poller.value
            await standIns.stopAll()
            throw error
        }
    }
}
