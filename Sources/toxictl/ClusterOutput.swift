import Foundation
import KubeDeploy
import ToxiproxyModel

/// How the cluster workflow is shown: progress lines as it goes, plans for `--dry-run`.
enum ClusterOutput {
    /// Prints each step and rollout line when the output is text (JSON output stays one document).
    static func progress(_ text: Bool) -> @Sendable (InstallEvent) -> Void {
        { event in
            guard text else { return }
            switch event {
            case .step(let step): Console.line("- \(step)")
            case .rollout(let deployment, let line): Console.line("    deployment/\(deployment): \(line)")
            case .rolledBack(let what): Console.line("  rolled back: \(what)")
            }
        }
    }

    /// `--dry-run`: the manifests and the patch as YAML documents, then the API calls; JSON has the same.
    static func printPlan(_ plan: InstallPlan, target: KubeTarget, format: OutputOptions.Format) {
        switch format {
        case .text:
            // A comment, so that everything after the first line is a YAML stream.
            Console.line("# dry run: nothing was changed. The objects and the patch, as YAML:")
            Console.line(plan.yaml(target: target), terminator: "")
            Console.line("---")
            Console.line("# the API calls, in order:")
            for call in plan.calls { Console.line("#   \(call)") }
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string("\(target.namespace)/\(target.deployment)")
            writer.key("dry_run")
            writer.bool(true)
            writer.key("manifests")
            writer.raw(JSON.array(plan.manifests).jsonText)
            writer.key("routing_patch")
            writer.raw(plan.routingPatch?.jsonText ?? "null")
            writer.key("calls")
            self.writeStrings(plan.calls, to: &writer)
            writer.endObject()
            Console.line(writer.output)
        }
    }

    static func writeStrings(_ strings: [String], to writer: inout JSONWriter) {
        writer.beginArray()
        for string in strings { writer.string(string) }
        writer.endArray()
    }
}
