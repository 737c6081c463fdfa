import ArgumentParser
import Impairments
import KubeDeploy
import ToxiproxyClient
import ToxiproxyModel

struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the proxy (or, with -n, unroute the Deployment and remove what toxictl installed).",
        discussion: """
            With -n NAMESPACE: removes only toxictl's hostAliases entries from the Deployment and waits for \
            that rollout (none when nothing was routed), then deletes the ConfigMap, Deployment and Services \
            it created (by their labels). The user's own aliases and objects are untouched. Nothing installed \
            is not an error; running it twice is safe.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    func run() async throws {
        if case .cluster(let cluster, _) = try self.target.mode() {
            try await self.disable(in: cluster)
            return
        }
        if self.output.format == .text {
            Console.line(try await self.target.targetLine())
        }
        let proxyName = self.target.proxy
        let calls = try await self.target.withClient { client -> [APICall] in
            let exists: Bool
            do throws(ToxiproxyClientError) {
                _ = try await client.proxy(named: proxyName)
                exists = true
            } catch  where error.isNotFound {
                exists = false
            } catch {
                throw CLIError(error, proxy: proxyName, target: client.baseURL)
            }
            let calls: [APICall] = exists ? [.deleteProxy(name: proxyName)] : []
            if !self.dryRun.dryRun {
                for call in calls {
                    do throws(ToxiproxyClientError) {
                        try await client.perform(call)
                    } catch {
                        throw CLIError(error, proxy: proxyName, target: client.baseURL)
                    }
                }
            }
            return calls
        }
        switch self.output.format {
        case .text:
            if calls.isEmpty {
                Console.line("nothing to change: proxy \(proxyName) does not exist")
            } else {
                Console.line(self.dryRun.dryRun ? "dry run: would send:" : "deleted proxy \(proxyName):")
                for call in calls { Console.line("  \(call)") }
            }
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string(self.target.jsonTarget)
            writer.key("dry_run")
            writer.bool(self.dryRun.dryRun)
            writer.key("calls")
            ProxyPrinter.writeJSON(calls, to: &writer)
            writer.endObject()
            Console.line(writer.output)
        }
    }
}
