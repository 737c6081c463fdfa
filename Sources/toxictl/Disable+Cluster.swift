import KubeDeploy
import ToxiproxyModel

extension Disable {
    /// Unroutes the target, waits for its rollout, then deletes what toxictl installed.
    func disable(in target: KubeTarget) async throws {
        let text = self.output.format == .text
        if text { Console.line(try await self.target.targetLine()) }
        let installer = TargetOptions.installer(for: target)
        if self.dryRun.dryRun {
            let plan = try await installer.planDisable()
            ClusterOutput.printPlan(plan, target: target, format: self.output.format)
            return
        }
        let report = try await installer.disable(progress: ClusterOutput.progress(text))
        switch self.output.format {
        case .text:
            guard report.wasInstalled else {
                Console.line(
                    "nothing to remove: Toxiproxy is not installed for deployment/\(target.deployment) "
                        + "in namespace \(target.namespace)"
                )
                return
            }
            for host in report.unrouted.keys.sorted() {
                Console.line("unrouted: \(host) (was \(report.unrouted[host]!))")
            }
            Console.line("deleted: " + report.deleted.map(\.description).joined(separator: ", "))
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string(self.target.jsonTarget)
            writer.key("dry_run")
            writer.bool(false)
            writer.key("was_installed")
            writer.bool(report.wasInstalled)
            writer.key("unrouted")
            ClusterOutput.writeStrings(report.unrouted.keys.sorted(), to: &writer)
            writer.key("deleted")
            ClusterOutput.writeStrings(report.deleted.map(\.description), to: &writer)
            writer.endObject()
            Console.line(writer.output)
        }
    }
}
