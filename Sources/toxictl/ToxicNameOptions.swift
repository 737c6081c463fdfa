import ArgumentParser
import Impairments

/// The names of the toxics this tool owns; defaults follow the scripts it replaces.
struct ToxicNameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Names of the latency toxics, upstream then downstream.", valueName: "up,down"))
    var latencyToxics = "fixed_latency_up,fixed_latency_down"

    @Option(help: ArgumentHelp("Names of the timeout toxics, upstream then downstream.", valueName: "up,down"))
    var timeoutToxics = "timeout_up,timeout_down"

    mutating func validate() throws {
        _ = try Self.pair(self.latencyToxics, option: "--latency-toxics")
        _ = try Self.pair(self.timeoutToxics, option: "--timeout-toxics")
    }

    func impairments(proxy: String) throws -> ProxyImpairments {
        ProxyImpairments(
            proxy: proxy,
            latencyNames: try Self.pair(self.latencyToxics, option: "--latency-toxics"),
            timeoutNames: try Self.pair(self.timeoutToxics, option: "--timeout-toxics")
        )
    }

    private static func pair(_ text: String, option: String) throws -> ProxyImpairments.ToxicNames {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != parts[1] else {
            throw ValidationError("\(option) takes two different names separated by a comma, e.g. up_name,down_name.")
        }
        return ProxyImpairments.ToxicNames(upstream: parts[0], downstream: parts[1])
    }
}

extension Direction: ExpressibleByArgument {}

/// Validates a duration given in milliseconds: never negative, never clamped.
func validateMilliseconds(_ value: Int64, option: String) throws {
    guard value >= 0 else {
        throw ValidationError("\(option) must be 0 or more milliseconds (got \(value)).")
    }
}
