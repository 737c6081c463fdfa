import Testing
import ToxiproxyTestSupport

/// Which admin API a command acts on: `--admin-url`, else `$TOXIPROXY_URL`, else http://127.0.0.1:8474; the
/// first line says which, and where it came from.
@Suite
struct ToxictlTargetTests {
    @Test
    func adminURLWinsOverTheEnvironment() async throws {
        try await withProxy { fixture in
            try await Loopback.withRefusingPort { port in
                let result = try await Toxictl.run(
                    ["latency", "enable", "10", "--admin-url", fixture.adminURL],
                    environment: ["TOXIPROXY_URL": "http://127.0.0.1:\(port)"]
                )
                #expect(result.status == 0, "\(result)")
                #expect(result.firstLine == "target: \(fixture.adminURL) (--admin-url), proxy \(fixture.proxy)")
                #expect(try await fixture.requireState().toxicNames == ["fixed_latency_up"])
            }
        }
    }

    @Test
    func theEnvironmentIsUsedWithoutAdminURL() async throws {
        try await withProxy { fixture in
            let result = try await Toxictl.run(
                ["latency", "enable", "10"],
                environment: ["TOXIPROXY_URL": fixture.adminURL]
            )
            #expect(result.status == 0, "\(result)")
            #expect(result.firstLine == "target: \(fixture.adminURL) ($TOXIPROXY_URL), proxy \(fixture.proxy)")
            #expect(try await fixture.requireState().toxicNames == ["fixed_latency_up"])
            let json = try await Toxictl.run(
                ["status", "-o", "json"],
                environment: ["TOXIPROXY_URL": fixture.adminURL]
            )
            #expect(json.jsonObject?["target"] as? String == fixture.adminURL, "\(json)")
        }
    }

    /// As toxiproxy-cli does it, a URL without a scheme gets `http://`.
    @Test
    func anEnvironmentURLWithoutSchemeGetsHTTP() async throws {
        try await withProxy { fixture in
            let bare = "127.0.0.1:\(fixture.admin.port)"
            let result = try await Toxictl.run(["outage", "enable"], environment: ["TOXIPROXY_URL": bare])
            #expect(result.status == 0, "\(result)")
            #expect(result.firstLine == "target: http://\(bare) ($TOXIPROXY_URL), proxy \(fixture.proxy)")
            #expect(try await fixture.requireState().enabled == false)
        }
    }

    /// Without either, the default. Only the first line is read (it comes before any call, and the run is a
    /// dry run), then the process is stopped, so whatever listens on 8474 here is neither needed nor changed.
    @Test(arguments: [[:], ["TOXIPROXY_URL": ""]])
    func withoutEitherTheDefaultIsUsed(environment: [String: String]) async throws {
        let process = try await Toxictl.start(["latency", "enable", "10", "--dry-run"], environment: environment)
        defer { process.cleanUp() }
        let output = try await process.waitForStdout(within: .seconds(5)) { $0.contains("\n") }
        let firstLine = output?.split(separator: "\n").first.map(String.init)
        #expect(
            firstLine == "target: http://127.0.0.1:8474 (default), proxy \(Toxictl.defaultProxy)",
            "\(output ?? "")"
        )
    }

    @Test
    func proxyOptionSelectsAnotherProxy() async throws {
        try await withProxy { fixture in
            let response = try await fixture.admin.post(
                "/proxies",
                #"{"name":"other","listen":"127.0.0.1:0","upstream":"127.0.0.1:\#(fixture.echoPort)"}"#
            )
            try #require(response.status == 201, "\(response)")
            let result = try await fixture.succeed("outage", "enable", "--proxy", "other")
            #expect(result.firstLine == "target: \(fixture.adminURL) (--admin-url), proxy other")
            let other = try ProxyState(json: try await fixture.admin.get("/proxies/other").jsonObject())
            #expect(other.enabled == false)
            #expect(try await fixture.requireState().enabled, "the default proxy must be untouched")
        }
    }
}
