import ArgumentParser
import ToxiproxyClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which admin API and which proxy a command acts on.
struct TargetOptions: ParsableArguments {
    static let defaultAdminURL = "http://127.0.0.1:8474"

    @Option(
        name: .customLong("admin-url"),
        help: ArgumentHelp(
            "Toxiproxy admin API URL (default: $TOXIPROXY_URL, else \(Self.defaultAdminURL)).",
            valueName: "url"
        )
    )
    var adminURL: String?

    @Option(name: .customLong("proxy"), help: ArgumentHelp("The proxy to act on.", valueName: "name"))
    var proxy = "api_groundlight_ai"

    /// The URL in force, and where it came from (for the first line of output).
    var resolvedAdminURL: (url: String, source: String) {
        if let adminURL { return (adminURL, "--admin-url") }
        if let value = getenv("TOXIPROXY_URL"), !String(cString: value).isEmpty {
            return (String(cString: value), "$TOXIPROXY_URL")
        }
        return (Self.defaultAdminURL, "default")
    }

    mutating func validate() throws {
        do {
            _ = try ToxiproxyClient.normalise(self.resolvedAdminURL.url)
        } catch {
            throw ValidationError("\(error.message). Give a URL such as \(Self.defaultAdminURL).")
        }
        guard !self.proxy.isEmpty else { throw ValidationError("--proxy must not be empty.") }
    }

    /// The line every command prints first: what it is about to act on.
    func targetLine() -> String {
        let (url, source) = self.resolvedAdminURL
        let normalised = (try? ToxiproxyClient.normalise(url)) ?? url
        return "target: \(normalised) (\(source)), proxy \(self.proxy)"
    }

    /// Runs `body` with a client for the target over one keep-alive connection.
    func withClient<Result: Sendable>(_ body: (ToxiproxyClient) async throws -> Result) async throws -> Result {
        try await ToxiproxyClient.withClient(baseURL: self.resolvedAdminURL.url, body)
    }
}

/// `-o text|json`.
struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(
        name: [.customShort("o"), .customLong("output")],
        help: "Output format: text for people, json for scripts."
    )
    var format: Format = .text
}

/// `--dry-run` on every command that changes something.
struct DryRunOptions: ParsableArguments {
    @Flag(help: "Print the admin API calls that would be made, and make none. Reads still happen.")
    var dryRun = false
}
