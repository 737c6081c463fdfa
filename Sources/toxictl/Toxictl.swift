import ArgumentParser
import Foundation

@main
struct Toxictl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toxictl",
        abstract: "Test how a service behaves when its network degrades, through a Toxiproxy server.",
        discussion: """
            Every command acts on one proxy (default api_groundlight_ai) of one Toxiproxy admin API: \
            --admin-url, else the Toxiproxy that toxictl installs in the Kubernetes namespace -n (or \
            $DEPLOYMENT_NAMESPACE), reached over a kubectl port-forward, else $TOXIPROXY_URL, else \
            http://127.0.0.1:8474. It works against this project's server (`toxictl serve`) and against \
            Shopify's Toxiproxy 2.6 or later. As a kubectl plugin (linked as kubectl-toxictl): \
            `kubectl toxictl enable -n edge`.
            """,
        version: ToxictlVersion.current,
        subcommands: [
            Serve.self, Enable.self, Disable.self, Status.self, Latency.self, Timeout.self, Outage.self,
            Flap.self, ScenarioCommand.self, Reset.self,
        ]
    )
}

extension Toxictl {
    /// ArgumentParser reads a negative positional value (`latency enable -5`) as an unknown short option and
    /// reports a missing argument; the only positional number toxictl takes is milliseconds, so it gets its
    /// own message before parsing (exit 64, as every invalid value). Negative option values (`--jitter -1`)
    /// reach the commands' own validation, which names the option.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        for (index, argument) in arguments.enumerated() where Self.isNegativeNumber(argument) {
            if index > 0 && arguments[index - 1].hasPrefix("-") { continue }
            Console.error(
                "Error: \(argument) is not allowed: give 0 or more milliseconds (negative values are never clamped).\n"
                    + "  See 'toxictl help <command>' for the arguments of each command."
            )
            Foundation.exit(64)
        }
        await Self.main(arguments)
    }

    private static func isNegativeNumber(_ argument: String) -> Bool {
        guard argument.count > 1, argument.hasPrefix("-") else { return false }
        return argument.dropFirst().allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
            && argument.dropFirst().first?.isNumber == true
    }
}

enum ToxictlVersion {
    static let current = "0.1.0"
}
