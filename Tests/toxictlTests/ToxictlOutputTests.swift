import Foundation
import Testing
import ToxiproxyTestSupport

/// What every command prints: the target first, JSON that parses with `-o json`, and with `--dry-run` the
/// calls it would send, sending none.
@Suite
struct ToxictlOutputTests {
    /// Arguments with `{port}` (the proxy's listen port) and `{echo}` (the upstream's) filled in per fixture.
    static let everyCommand: [[String]] = [
        ["status"],
        ["enable", "--listen", "127.0.0.1:{port}", "--upstream", "127.0.0.1:{echo}"],
        ["latency", "enable", "10"],
        ["latency", "disable"],
        ["timeout", "enable"],
        ["timeout", "disable"],
        ["outage", "enable"],
        ["outage", "disable"],
        ["reset"],
        ["flap", "--up-ms", "10", "--down-ms", "10", "--iterations", "1"],
        ["disable"],
    ]

    static func fill(_ arguments: [String], _ fixture: ProxyFixture) -> [String] {
        arguments.map {
            $0.replacingOccurrences(of: "{port}", with: "\(fixture.proxyPort)")
                .replacingOccurrences(of: "{echo}", with: "\(fixture.echoPort)")
        }
    }

    @Test(arguments: Self.everyCommand)
    func theFirstLineNamesTheTargetAndWhereItCameFrom(command: [String]) async throws {
        try await withProxy { fixture in
            let result = try await Toxictl.run(fixture.targeted(Self.fill(command, fixture)))
            #expect(result.status == 0, "\(result)")
            #expect(
                result.firstLine == "target: \(fixture.adminURL) (--admin-url), proxy \(fixture.proxy)",
                "\(result)"
            )
        }
    }

    // MARK: -o json

    @Test(arguments: [
        ["status"],
        ["enable", "--listen", "127.0.0.1:{port}", "--upstream", "127.0.0.1:{echo}"],
        ["latency", "enable", "10", "--direction", "both"],
        ["latency", "disable"],
        ["timeout", "enable", "--timeout-ms", "0"],
        ["timeout", "disable"],
        ["outage", "enable"],
        ["outage", "disable"],
        ["reset"],
    ])
    func jsonOutputParsesAndMatchesTheServer(command: [String]) async throws {
        try await withProxy { fixture in
            let result = try await Toxictl.run(fixture.targeted(Self.fill(command, fixture) + ["-o", "json"]))
            #expect(result.status == 0, "\(result)")
            let object = try #require(result.jsonObject, "not one JSON object: \(result.stdout)")
            let proxy = try ProxyState(json: try #require(object["proxy"] as? [String: Any], "\(object)"))
            #expect(proxy == (try await fixture.requireState()), "the JSON must show the state the server has")
            if command != ["status"] {
                #expect(object["dry_run"] as? Bool == false, "\(object)")
                #expect(object["calls"] is [String], "\(object)")
            }
            if command == ["status"] || command.first == "latency" || command.first == "reset" {
                #expect(object["target"] as? String == fixture.adminURL, "\(object)")
            }
        }
    }

    @Test
    func statusJSONOfAMissingProxyHasANullProxy() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("disable")
            let result = try await fixture.succeed("status", "-o", "json")
            let object = try #require(result.jsonObject, "\(result.stdout)")
            #expect(object["proxy"] is NSNull, "\(object)")
            #expect(object["server_version"] as? String == "2.12.0")
        }
    }

    @Test
    func disableJSONParses() async throws {
        try await withProxy { fixture in
            let result = try await fixture.succeed("disable", "-o", "json")
            let object = try #require(result.jsonObject, "\(result.stdout)")
            #expect(object["calls"] as? [String] == ["DELETE /proxies/\(fixture.proxy)"], "\(object)")
            #expect(try await fixture.state() == nil)
        }
    }

    // MARK: --dry-run

    struct DryRunCase: Sendable, CustomTestStringConvertible {
        var setup: [[String]] = []
        var command: [String]
        /// Substrings of the calls that must be printed.
        var calls: [String]
        var testDescription: String { self.command.joined(separator: " ") }
    }

    static let dryRunCases: [DryRunCase] = [
        DryRunCase(
            setup: [["disable"]],
            command: ["enable", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:{echo}"],
            calls: [#"POST /proxies {"name":"api_groundlight_ai","listen":"127.0.0.1:0","upstream":"127.0.0.1:{echo}""#]
        ),
        DryRunCase(
            command: ["enable", "--listen", "127.0.0.1:{port}", "--upstream", "127.0.0.1:1"],
            calls: [#"POST /proxies/api_groundlight_ai {"listen":"127.0.0.1:{port}","upstream":"127.0.0.1:1"}"#]
        ),
        DryRunCase(command: ["disable"], calls: ["DELETE /proxies/api_groundlight_ai"]),
        DryRunCase(
            command: ["latency", "enable", "100", "--direction", "both"],
            calls: [
                #"POST /proxies/api_groundlight_ai/toxics {"name":"fixed_latency_up","type":"latency","stream":"upstream""#,
                #"POST /proxies/api_groundlight_ai/toxics {"name":"fixed_latency_down","type":"latency","stream":"downstream""#,
            ]
        ),
        DryRunCase(
            setup: [["latency", "enable", "100"]],
            command: ["latency", "enable", "300"],
            calls: [#"PATCH /proxies/api_groundlight_ai/toxics/fixed_latency_up {"attributes":{"latency":300"#]
        ),
        DryRunCase(
            setup: [["latency", "enable", "100"]],
            command: ["latency", "disable"],
            calls: ["DELETE /proxies/api_groundlight_ai/toxics/fixed_latency_up"]
        ),
        DryRunCase(
            command: ["timeout", "enable", "--timeout-ms", "0"],
            calls: [
                #"POST /proxies/api_groundlight_ai/toxics {"name":"timeout_up","type":"timeout""#,
                #"POST /proxies/api_groundlight_ai/toxics {"name":"timeout_down","type":"timeout""#,
            ]
        ),
        DryRunCase(
            setup: [["timeout", "enable"]],
            command: ["timeout", "disable"],
            calls: [
                "DELETE /proxies/api_groundlight_ai/toxics/timeout_up",
                "DELETE /proxies/api_groundlight_ai/toxics/timeout_down",
            ]
        ),
        DryRunCase(command: ["outage", "enable"], calls: [#"POST /proxies/api_groundlight_ai {"enabled":false}"#]),
        DryRunCase(
            setup: [["outage", "enable"]],
            command: ["outage", "disable"],
            calls: [#"POST /proxies/api_groundlight_ai {"enabled":true}"#]
        ),
        DryRunCase(
            setup: [["latency", "enable", "10"], ["timeout", "enable"], ["outage", "enable"]],
            command: ["reset"],
            calls: [
                "DELETE /proxies/api_groundlight_ai/toxics/fixed_latency_up",
                "DELETE /proxies/api_groundlight_ai/toxics/timeout_up",
                "DELETE /proxies/api_groundlight_ai/toxics/timeout_down",
                #"POST /proxies/api_groundlight_ai {"enabled":true}"#,
            ]
        ),
        DryRunCase(
            command: ["flap", "--mode", "refuse"],
            calls: [#"DOWN: POST /proxies/api_groundlight_ai {"enabled":false}"#]
        ),
        DryRunCase(
            command: ["flap", "--mode", "timeout", "--timeout-ms", "0", "--timeout-stream", "up"],
            calls: [#"DOWN: POST /proxies/api_groundlight_ai/toxics {"name":"timeout_up","type":"timeout""#]
        ),
    ]

    @Test(arguments: Self.dryRunCases)
    func dryRunPrintsTheCallsAndChangesNothing(_ dryRun: DryRunCase) async throws {
        try await withProxy { fixture in
            for step in dryRun.setup {
                let result = try await Toxictl.run(fixture.targeted(Self.fill(step, fixture)))
                try #require(result.status == 0, "setup \(step): \(result)")
            }
            let before = try await fixture.rawState()
            let result = try await Toxictl.run(fixture.targeted(Self.fill(dryRun.command, fixture) + ["--dry-run"]))
            #expect(result.status == 0, "\(result)")
            #expect(result.firstLine.hasPrefix("target: \(fixture.adminURL)"), "\(result)")
            #expect(result.stdout.contains("dry run"), "\(result)")
            for call in dryRun.calls {
                #expect(result.stdout.contains(Self.fill([call], fixture)[0]), "missing \(call) in \(result.stdout)")
            }
            let after = try await fixture.rawState()
            #expect(after == before, "a dry run changed the proxy")
        }
    }

    @Test
    func dryRunJSONSaysSoAndChangesNothing() async throws {
        try await withProxy { fixture in
            let before = try await fixture.rawState()
            let result = try await fixture.succeed("outage", "enable", "--dry-run", "-o", "json")
            let object = try #require(result.jsonObject, "\(result.stdout)")
            #expect(object["dry_run"] as? Bool == true)
            #expect(object["calls"] as? [String] == [#"POST /proxies/api_groundlight_ai {"enabled":false}"#])
            let after = try await fixture.rawState()
            #expect(after == before)
            #expect(try await Traffic.roundTrip(port: fixture.proxyPort) != nil)
        }
    }
}
