import Impairments
import KubeDeploy
import ToxiproxyClient
import ToxiproxyModel

/// What makes the Toxiproxy behind a port-forward this install's: every proxy of the install's ConfigMap,
/// with its upstream and listen port. A restarted pod comes back with exactly those (the ConfigMap is its
/// `-config`); a server without them is someone else's, or was changed by hand.
struct ClusterIdentity {
    var target: KubeTarget

    /// The proxies of the ConfigMap that the server lacks or has differently, as sentences.
    func differences(from proxies: [Proxy]) -> [String] {
        self.target.hosts.compactMap { host in
            guard let proxy = proxies.first(where: { $0.name == host.proxyName }) else {
                return "proxy \(host.proxyName) is missing"
            }
            if proxy.upstream != host.upstream {
                return "proxy \(host.proxyName) forwards to \(proxy.upstream), not \(host.upstream)"
            }
            // The host part of listen is the pod's business (0.0.0.0, or the pod's IP); the port is ours.
            if !proxy.listen.hasSuffix(":\(host.listenPort)") {
                return "proxy \(host.proxyName) listens on \(proxy.listen), not port \(host.listenPort)"
            }
            return nil
        }
    }

    /// Throws unless the server is this install's.
    func confirm(_ client: ToxiproxyClient) async throws {
        let proxies: [Proxy]
        do {
            proxies = try await client.proxies()
        } catch {
            throw CLIError(error, proxy: self.target.hosts[0].proxyName, target: "the port-forward")
        }
        let differences = self.differences(from: proxies)
        guard differences.isEmpty else {
            throw CLIError(
                "the Toxiproxy in pod of \(self.target.proxyDeploymentName) (namespace \(self.target.namespace)) "
                    + "is not as this install configured it: \(differences.joined(separator: "; ")).\n"
                    + "Run `toxictl enable -n \(self.target.namespace)` to put the proxies back; nothing was changed."
            )
        }
    }
}

extension ClusterIdentity {
    /// Creates or updates each proxy of the ConfigMap live (listen `0.0.0.0:PORT`, its upstream, enabled) and
    /// verifies the result; returns the calls it sent.
    func configure(_ client: ToxiproxyClient) async throws -> [APICall] {
        var calls: [APICall] = []
        let after: [Proxy]
        do throws(ToxiproxyClientError) {
            let proxies = try await client.proxies()
            for host in self.target.hosts {
                let listen = "0.0.0.0:\(host.listenPort)"
                guard let proxy = proxies.first(where: { $0.name == host.proxyName }) else {
                    calls.append(.createProxy(name: host.proxyName, listen: listen, upstream: host.upstream))
                    continue
                }
                if proxy.upstream != host.upstream || !proxy.listen.hasSuffix(":\(host.listenPort)") {
                    calls.append(.updateProxyAddress(proxy: host.proxyName, listen: listen, upstream: host.upstream))
                }
                if !proxy.enabled {
                    calls.append(.setProxyEnabled(proxy: host.proxyName, enabled: true))
                }
            }
            for call in calls { try await client.perform(call) }
            after = try await client.proxies()
        } catch {
            throw CLIError(error, proxy: self.target.hosts[0].proxyName, target: "the port-forward")
        }
        var problems = self.differences(from: after)
        problems += self.target.hosts.compactMap { host in
            after.first { $0.name == host.proxyName && !$0.enabled }.map { "proxy \($0.name) is disabled" }
        }
        guard problems.isEmpty else {
            throw CLIError(
                "the proxies are not as configured after \(calls.count) call(s): \(problems.joined(separator: "; "))"
            )
        }
        return calls
    }
}
