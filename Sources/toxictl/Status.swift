import ArgumentParser
import KubeDeploy
import ToxiproxyClient
import ToxiproxyModel

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the proxy: whether it exists and is enabled, and every toxic with its attributes.",
        discussion: """
            With -n NAMESPACE also: whether toxictl's Toxiproxy is installed, its pod's readiness and \
            restarts (a restart drops every toxic), and the routing: does the Deployment carry our alias, \
            does it point at the current ClusterIP of the right Service, has its rollout finished. Exits 0 \
            when healthy or cleanly not installed, 2 when the state is broken (the endpoint is routed to a \
            proxy that cannot carry its traffic), 1 on an error.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        if case .cluster(let cluster, _) = try self.target.mode() {
            try await self.status(in: cluster)
            return
        }
        let proxyName = self.target.proxy
        let (version, proxy) = try await self.target.withClient { client -> (String, Proxy?) in
            do throws(ToxiproxyClientError) {
                let version = try await client.version()
                do throws(ToxiproxyClientError) {
                    return (version, try await client.proxy(named: proxyName))
                } catch  where error.isNotFound {
                    return (version, nil)
                }
            } catch {
                throw CLIError(error, proxy: proxyName, target: client.baseURL)
            }
        }
        switch self.output.format {
        case .text:
            Console.line(try await self.target.targetLine())
            Console.line("server: Toxiproxy API \(version)")
            if let proxy {
                Console.line(ProxyPrinter.text(proxy))
            } else {
                Console.line("proxy \(proxyName): does not exist (create it with `toxictl enable`)")
            }
        case .json:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("target")
            writer.string(self.target.jsonTarget)
            writer.key("server_version")
            writer.string(version)
            writer.key("proxy")
            if let proxy { ProxyPrinter.writeJSON(proxy, to: &writer) } else { writer.null() }
            writer.endObject()
            Console.line(writer.output)
        }
    }
}
