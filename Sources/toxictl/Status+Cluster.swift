import ArgumentParser
import Foundation
import KubeDeploy
import ToxiproxyClient
import ToxiproxyModel

extension Status {
    /// The install, its routing, and (when a proxy pod is ready) its proxies and toxics. Exits 2 when the
    /// state is broken: the target is routed to a proxy that is missing, not ready, or not ours.
    func status(in target: KubeTarget) async throws {
        let installer = TargetOptions.installer(for: target)
        var status = try await installer.status()
        var proxies: [Proxy]?
        if status.installed, status.pods.contains(where: \.ready) {
            do {
                proxies = try await self.target.withClient { client in
                    do throws(ToxiproxyClientError) {
                        return try await client.proxies()
                    } catch {
                        throw CLIError(error, proxy: self.target.proxy, target: "the port-forward")
                    }
                }
            } catch {
                // The identity check or the forward failed: the routed endpoint may be talking to nothing.
                status.problems.append("the proxy pod's admin API is not usable: \(error)")
                if status.health != .notInstalled { status.health = .broken }
            }
        }
        switch self.output.format {
        case .text:
            Console.line(try await self.target.targetLine())
            self.printText(status, proxies: proxies, target: target)
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string(self.target.jsonTarget)
            writer.key("install")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            writer.raw(String(decoding: try encoder.encode(status), as: UTF8.self))
            writer.key("proxies")
            if let proxies {
                writer.beginArray()
                for proxy in proxies { ProxyPrinter.writeJSON(proxy, to: &writer) }
                writer.endArray()
            } else {
                writer.null()
            }
            writer.endObject()
            Console.line(writer.output)
        }
        if status.health == .broken {
            throw ExitCode(2)
        }
    }

    private func printText(_ status: InstallStatus, proxies: [Proxy]?, target: KubeTarget) {
        guard status.installed || status.health == .broken else {
            Console.line(
                "not installed: no Toxiproxy of toxictl for deployment/\(target.deployment) in namespace "
                    + "\(target.namespace) (install it with `toxictl enable -n \(target.namespace)`)"
            )
            return
        }
        switch status.health {
        case .healthy: Console.line("health: OK")
        case .notInstalled: Console.line("health: not installed")
        case .degraded: Console.line("health: DEGRADED")
        case .broken:
            Console.line(
                "health: BROKEN: deployment/\(target.deployment) is routed to a proxy that cannot carry its "
                    + "traffic: the endpoint is cut off from the cloud. Fix the proxy, or run "
                    + "`toxictl disable -n \(target.namespace)` to route it straight to the cloud again."
            )
        }
        for problem in status.problems { Console.line("  problem: \(problem)") }
        for warning in status.warnings { Console.line("  warning: \(warning)") }
        for pod in status.pods {
            Console.line(
                "proxy pod \(pod.name): \(pod.ready ? "ready" : "NOT READY"), \(pod.restartCount) restart(s)"
                    + (pod.restartCount > 0 ? " (a restart drops every toxic added since it started)" : "")
            )
        }
        if status.pods.isEmpty { Console.line("proxy pods: none") }
        for route in status.routes {
            let state: String
            if route.pointsAtService {
                state = "routed to Service \(route.serviceName) (\(route.serviceIP!))"
            } else if route.isRouted {
                state =
                    "routed to \(route.aliasIPs.joined(separator: ", ")), but Service \(route.serviceName) is at "
                    + (route.serviceIP ?? "nothing (missing)")
            } else {
                state = "not routed"
            }
            Console.line("route \(route.host): \(state)")
        }
        Console.line(
            "deployment/\(target.deployment): "
                + (status.targetExists
                    ? (status.targetRolloutComplete ? "rollout complete" : "rollout in progress") : "MISSING")
        )
        for proxy in proxies ?? [] {
            Console.line(ProxyPrinter.text(proxy))
        }
    }
}
