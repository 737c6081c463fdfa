import Impairments
import ToxiproxyClient
import ToxiproxyModel

/// The shape every impairment command shares: read the proxy, compute the calls, then send them (or, for a
/// dry run, print them), and show the result.
struct ChangeRunner {
    var target: TargetOptions
    var output: OutputOptions
    var dryRun: Bool

    /// - Parameters:
    ///   - summary: one line saying what the command does, printed before the calls.
    ///   - plan: the calls that bring the proxy from its current state to the wanted one.
    func run(summary: String, plan: (Proxy) -> [APICall]) async throws {
        if self.output.format == .text {
            Console.line(try await self.target.targetLine())
            Console.line(summary)
        }
        let (calls, result) = try await self.target.withClient { client in
            let current = try await self.fetch(client)
            let calls = plan(current)
            if self.dryRun {
                return (calls, current)
            }
            for call in calls {
                do throws(ToxiproxyClientError) {
                    try await client.perform(call)
                } catch {
                    throw CLIError(error, proxy: self.target.proxy, target: client.baseURL)
                }
            }
            return (calls, calls.isEmpty ? current : try await self.fetch(client))
        }
        switch self.output.format {
        case .text:
            if calls.isEmpty {
                Console.line("nothing to change: the proxy is already in that state")
            } else {
                Console.line(
                    self.dryRun ? "dry run: would send \(calls.count) call(s):" : "sent \(calls.count) call(s):"
                )
                for call in calls { Console.line("  \(call)") }
            }
            if !self.dryRun { Console.line(ProxyPrinter.text(result)) }
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string(self.target.jsonTarget)
            writer.key("dry_run")
            writer.bool(self.dryRun)
            writer.key("calls")
            ProxyPrinter.writeJSON(calls, to: &writer)
            writer.key("proxy")
            ProxyPrinter.writeJSON(result, to: &writer)
            writer.endObject()
            Console.line(writer.output)
        }
    }

    func fetch(_ client: ToxiproxyClient) async throws -> Proxy {
        do {
            return try await client.proxy(named: self.target.proxy)
        } catch {
            throw CLIError(error, proxy: self.target.proxy, target: client.baseURL)
        }
    }
}
