import Foundation
import Impairments
import KubeDeploy
import ToxiproxyClient
import ToxiproxyModel

extension Enable {
    /// Installs the proxy into the namespace, configures it over a port-forward, then routes the target.
    func enable(in target: KubeTarget) async throws {
        let text = self.output.format == .text
        if text { Console.line(try await self.target.targetLine()) }
        let installer = TargetOptions.installer(for: target)
        if self.dryRun.dryRun {
            let plan = try await installer.planEnable()
            ClusterOutput.printPlan(plan, target: target, format: self.output.format)
            return
        }
        let configured = ConfiguredCalls()
        let report = try await installer.enable(progress: ClusterOutput.progress(text)) { port in
            let calls = try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(port)") { client in
                try await ClusterIdentity(target: target).configure(client)
            }
            configured.calls = calls
        }
        switch self.output.format {
        case .text:
            for call in configured.calls { Console.line("  admin API: \(call)") }
            if report.changedNothing && configured.calls.isEmpty {
                Console.line("nothing to change: installed, configured and routed already (no rollout)")
            } else {
                if !report.created.isEmpty {
                    Console.line("created: " + report.created.map(\.description).joined(separator: ", "))
                }
                if !report.updated.isEmpty {
                    Console.line("updated: " + report.updated.map(\.description).joined(separator: ", "))
                }
            }
            for host in report.routes.keys.sorted() {
                Console.line("routed: \(host) → \(report.routes[host]!) in deployment/\(target.deployment)")
            }
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string(self.target.jsonTarget)
            writer.key("dry_run")
            writer.bool(false)
            writer.key("created")
            ClusterOutput.writeStrings(report.created.map(\.description), to: &writer)
            writer.key("updated")
            ClusterOutput.writeStrings(report.updated.map(\.description), to: &writer)
            writer.key("routing_changed")
            writer.bool(report.routingChanged)
            writer.key("routes")
            writer.beginObject()
            for host in report.routes.keys.sorted() {
                writer.key(host)
                writer.string(report.routes[host]!)
            }
            writer.endObject()
            writer.key("calls")
            ProxyPrinter.writeJSON(configured.calls, to: &writer)
            writer.endObject()
            Console.line(writer.output)
        }
    }
}

/// The admin API calls the configuring closure made, carried out of it.
final class ConfiguredCalls: @unchecked Sendable {
    // Written once inside `Installer.enable`'s closure, read after it returned: never at the same time.
    var calls: [APICall] = []
}
