import ArgumentParser
import Impairments
import ToxiproxyClient
import ToxiproxyModel

struct Disable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete the proxy from the target server (its connections close, its toxics go with it)."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    func run() async throws {
        if self.output.format == .text {
            Console.line(self.target.targetLine())
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
            writer.key("dry_run")
            writer.bool(self.dryRun.dryRun)
            writer.key("calls")
            ProxyPrinter.writeJSON(calls, to: &writer)
            writer.endObject()
            Console.line(writer.output)
        }
    }
}
