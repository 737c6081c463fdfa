import ArgumentParser
import Impairments
import ToxiproxyClient
import ToxiproxyModel

struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the proxy on the target server, or update its addresses (idempotent).",
        discussion: """
            The proxy listens on --listen and forwards to --upstream. Run again with other addresses to \
            change them; an outage or toxics already in place are kept.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    @Option(help: ArgumentHelp("Address the proxy listens on.", valueName: "host:port"))
    var listen = "0.0.0.0:10443"

    @Option(help: ArgumentHelp("Address the proxy forwards to.", valueName: "host:port"))
    var upstream = "api.groundlight.ai:443"

    func validate() throws {
        for (option, value) in [("--listen", self.listen), ("--upstream", self.upstream)] {
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
                (0...65535).contains(port), !value.hasPrefix(":") || option == "--listen"
            else {
                throw ValidationError("\(option) must be host:port with a port from 0 to 65535 (got \"\(value)\").")
            }
        }
    }

    func run() async throws {
        if self.output.format == .text {
            Console.line(self.target.targetLine())
            Console.line("enable: listen \(self.listen), upstream \(self.upstream)")
        }
        let proxyName = self.target.proxy
        let (calls, result) = try await self.target.withClient { client -> ([APICall], Proxy?) in
            let current: Proxy?
            do throws(ToxiproxyClientError) {
                current = try await client.proxy(named: proxyName)
            } catch  where error.isNotFound {
                current = nil
            } catch {
                throw CLIError(error, proxy: proxyName, target: client.baseURL)
            }
            let calls: [APICall]
            switch current {
            case nil:
                calls = [.createProxy(name: proxyName, listen: self.listen, upstream: self.upstream)]
            case .some(let proxy) where proxy.listen != self.listen || proxy.upstream != self.upstream:
                calls = [.updateProxyAddress(proxy: proxyName, listen: self.listen, upstream: self.upstream)]
            case .some:
                calls = []
            }
            guard !self.dryRun.dryRun else { return (calls, current) }
            do {
                for call in calls { try await client.perform(call) }
                let proxy = try await client.proxy(named: proxyName)
                // What was asked for must be what the server now runs.
                guard proxy.upstream == self.upstream else {
                    throw CLIError("the server reports upstream \(proxy.upstream), not \(self.upstream)")
                }
                return (calls, proxy)
            } catch let error as ToxiproxyClientError {
                throw CLIError(error, proxy: proxyName, target: client.baseURL)
            }
        }
        switch self.output.format {
        case .text:
            if calls.isEmpty {
                Console.line("nothing to change: the proxy already has these addresses")
            } else {
                Console.line(
                    self.dryRun.dryRun ? "dry run: would send \(calls.count) call(s):" : "sent \(calls.count) call(s):"
                )
                for call in calls { Console.line("  \(call)") }
            }
            if let result, !self.dryRun.dryRun { Console.line(ProxyPrinter.text(result)) }
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("dry_run")
            writer.bool(self.dryRun.dryRun)
            writer.key("calls")
            ProxyPrinter.writeJSON(calls, to: &writer)
            writer.key("proxy")
            if let result { ProxyPrinter.writeJSON(result, to: &writer) } else { writer.null() }
            writer.endObject()
            Console.line(writer.output)
        }
    }
}
