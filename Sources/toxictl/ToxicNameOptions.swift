import ArgumentParser
import Impairments

/// The names of the toxics this tool owns; defaults follow the scripts it replaces.
struct ToxicNameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Names of the latency toxics, upstream then downstream.", valueName: "up,down"))
    var latencyToxics = Self.defaultLatencyToxics

    @OptionGroup var timeout: TimeoutToxicNameOptions

    static let defaultLatencyToxics = "fixed_latency_up,fixed_latency_down"

    mutating func validate() throws {
        _ = try Self.pair(self.latencyToxics, option: "--latency-toxics")
    }

    func impairments(proxy: String) throws -> ProxyImpairments {
        ProxyImpairments(
            proxy: proxy,
            latencyNames: try Self.pair(self.latencyToxics, option: "--latency-toxics"),
            timeoutNames: try Self.pair(self.timeout.timeoutToxics, option: "--timeout-toxics")
        )
    }

    static func pair(_ text: String, option: String) throws -> ProxyImpairments.ToxicNames {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != parts[1] else {
            throw ValidationError("\(option) takes two different names separated by a comma, e.g. up_name,down_name.")
        }
        return ProxyImpairments.ToxicNames(upstream: parts[0], downstream: parts[1])
    }
}

/// The names of the timeout toxics alone, for the commands that touch no latency toxic (flap).
struct TimeoutToxicNameOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Names of the timeout toxics, upstream then downstream.", valueName: "up,down"))
    var timeoutToxics = Self.defaultTimeoutToxics

    static let defaultTimeoutToxics = "timeout_up,timeout_down"

    mutating func validate() throws {
        _ = try ToxicNameOptions.pair(self.timeoutToxics, option: "--timeout-toxics")
    }

    /// Impairments whose latency toxics keep their default names: the command never touches them.
    func impairments(proxy: String) throws -> ProxyImpairments {
        ProxyImpairments(
            proxy: proxy,
            latencyNames: try ToxicNameOptions.pair(ToxicNameOptions.defaultLatencyToxics, option: "--latency-toxics"),
            timeoutNames: try ToxicNameOptions.pair(self.timeoutToxics, option: "--timeout-toxics")
        )
    }
}

extension Direction: ExpressibleByArgument {}

/// Validates a duration given in milliseconds: never negative, never clamped.
func validateMilliseconds(_ value: Int64, option: String) throws {
    guard value >= 0 else {
        throw ValidationError("\(option) must be 0 or more milliseconds (got \(value)).")
    }
}
