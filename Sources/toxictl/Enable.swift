import ArgumentParser
import Impairments
import KubeDeploy
import ToxiproxyClient
import ToxiproxyModel

struct Enable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the proxy (or, with -n, install Toxiproxy in the namespace and route through it).",
        discussion: """
            Against a server: the proxy listens on --listen and forwards to --upstream; run again with other \
            addresses to change them; an outage or toxics already in place are kept.

            With -n NAMESPACE: checks the namespace, the Deployment and every permission first (changing \
            nothing when one is missing), applies a ConfigMap, the proxy Deployment and its Services \
            (server-side apply, field manager toxictl), waits for the proxy's rollout, configures and \
            verifies each proxy over a port-forward, and only then adds hostAliases entries (each --host → \
            its Service's ClusterIP) to the Deployment and waits for its rollout. A re-run changes nothing; \
            a failure part-way undoes what this run created.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var dryRun: DryRunOptions

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp("Address the proxy listens on (default 0.0.0.0:10443).", valueName: "host:port")
    )
    var listenOption: String?

    @Option(
        name: .customLong("upstream"),
        help: ArgumentHelp("Address the proxy forwards to (default api.groundlight.ai:443).", valueName: "host:port")
    )
    var upstreamOption: String?

    @Option(
        help: ArgumentHelp(
            "With -n: the proxy's container image (default \(KubeTarget.defaultImage); see the README for ours).",
            valueName: "image"
        )
    )
    var image: String?

    var listen: String { self.listenOption ?? "0.0.0.0:10443" }
    var upstream: String { self.upstreamOption ?? "api.groundlight.ai:443" }

    func validate() throws {
        if case .cluster = try? self.target.mode() {
            if self.listenOption != nil || self.upstreamOption != nil {
                throw ValidationError(
                    "--listen and --upstream apply to a server target; with -n each --host gets its own proxy."
                )
            }
        } else if self.image != nil {
            throw ValidationError("--image applies to a cluster target: give -n NAMESPACE.")
        }
        if let image, image.isEmpty || image.contains(where: \.isWhitespace) {
            throw ValidationError("--image must be an image reference such as \(KubeTarget.defaultImage).")
        }
        for (option, value) in [("--listen", self.listen), ("--upstream", self.upstream)] {
            guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]),
                (0...65535).contains(port), !value.hasPrefix(":") || option == "--listen"
            else {
                throw ValidationError("\(option) must be host:port with a port from 0 to 65535 (got \"\(value)\").")
            }
        }
    }

    func run() async throws {
        if case .cluster(let cluster, _) = try self.target.mode(image: self.image ?? KubeTarget.defaultImage) {
            try await self.enable(in: cluster)
            return
        }
        if self.output.format == .text {
            Console.line(try await self.target.targetLine())
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
            writer.key("target")
            writer.string(self.target.jsonTarget)
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
