import ArgumentParser
import ToxiproxyClient
import ToxiproxyModel

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the proxy: whether it exists and is enabled, and every toxic with its attributes."
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
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
            Console.line(self.target.targetLine())
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
            writer.string((try? ToxiproxyClient.normalise(self.target.resolvedAdminURL.url)) ?? "")
            writer.key("server_version")
            writer.string(version)
            writer.key("proxy")
            if let proxy { ProxyPrinter.writeJSON(proxy, to: &writer) } else { writer.null() }
            writer.endObject()
            Console.line(writer.output)
        }
    }
}
