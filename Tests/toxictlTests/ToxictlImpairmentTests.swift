import Testing
import ToxiproxyTestSupport

/// Each command against a real server: the state the server ends up in, and what real traffic through the
/// proxy then does.
@Suite
struct ToxictlImpairmentTests {
    // MARK: enable / disable

    @Test
    func enableCreatesAProxyThatCarriesTraffic() async throws {
        try await withProxy { fixture in
            let state = try await fixture.requireState()
            #expect(state.listen == "127.0.0.1:\(fixture.proxyPort)")
            #expect(state.upstream == "127.0.0.1:\(fixture.echoPort)")
            #expect(state.enabled)
            #expect(state.toxics.isEmpty)
            let roundTrip = try await Traffic.roundTrip(port: fixture.proxyPort)
            #expect(roundTrip != nil, "no echo through the proxy")
        }
    }

    @Test
    func enableAgainWithTheSameAddressesChangesNothing() async throws {
        try await withProxy { fixture in
            let before = try await fixture.rawState()
            let result = try await fixture.succeed(
                "enable",
                "--listen",
                "127.0.0.1:\(fixture.proxyPort)",
                "--upstream",
                "127.0.0.1:\(fixture.echoPort)"
            )
            #expect(result.stdout.contains("nothing to change"), "\(result)")
            #expect(!result.stdout.contains("POST "), "\(result)")
            let after = try await fixture.rawState()
            #expect(after == before)
        }
    }

    @Test
    func enableWithAnotherUpstreamUpdatesItAndKeepsTheOutageAndToxics() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "50")
            try await fixture.succeed("outage", "enable")
            try await withEchoServer { otherEcho in
                let result = try await fixture.succeed(
                    "enable",
                    "--listen",
                    "127.0.0.1:\(fixture.proxyPort)",
                    "--upstream",
                    "127.0.0.1:\(otherEcho)"
                )
                #expect(result.stdout.contains("POST /proxies/\(fixture.proxy) "), "\(result)")
                let state = try await fixture.requireState()
                #expect(state.upstream == "127.0.0.1:\(otherEcho)")
                #expect(!state.enabled, "enable must not end an outage: \(state)")
                #expect(state.toxicNames == ["fixed_latency_up"], "\(state)")
                try await fixture.succeed("outage", "disable")
                let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
                #expect(roundTrip >= 50)
            }
        }
    }

    @Test
    func disableDeletesTheProxyAndIsIdempotent() async throws {
        try await withProxy { fixture in
            let result = try await fixture.succeed("disable")
            #expect(result.stdout.contains("DELETE /proxies/\(fixture.proxy)"), "\(result)")
            #expect(try await fixture.state() == nil)
            #expect(await Traffic.refuses(port: fixture.proxyPort))
            let again = try await fixture.succeed("disable")
            #expect(again.stdout.contains("nothing to change"), "\(again)")
        }
    }

    // MARK: status

    @Test
    func statusShowsTheProxyItsOutageAndEveryToxicWithItsAttributes() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "123", "--jitter", "7")
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "4567", "--timeout-stream", "down")
            try await fixture.succeed("outage", "enable")
            let status = try await fixture.succeed("status")
            let lines = status.lines
            #expect(lines.contains("server: Toxiproxy API 2.12.0"), "\(status)")
            #expect(
                lines.contains {
                    $0.contains("proxy \(fixture.proxy)") && $0.contains("DISABLED")
                        && $0.contains("listen 127.0.0.1:\(fixture.proxyPort)")
                        && $0.contains("upstream 127.0.0.1:\(fixture.echoPort)")
                },
                "\(status)"
            )
            let latency = lines.first { $0.contains("fixed_latency_up") } ?? ""
            for word in ["latency", "upstream", "latency=123", "jitter=7"] {
                #expect(latency.contains(word), "\(latency)")
            }
            let timeout = lines.first { $0.contains("timeout_down") } ?? ""
            for word in ["timeout", "downstream", "timeout=4567"] {
                #expect(timeout.contains(word), "\(timeout)")
            }
        }
    }

    @Test
    func statusOfAMissingProxySaysHowToCreateIt() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("disable")
            let status = try await fixture.succeed("status")
            #expect(status.stdout.contains("does not exist"), "\(status)")
            #expect(status.stdout.contains("toxictl enable"), "\(status)")
        }
    }

    // MARK: latency

    @Test
    func latencyEnableDelaysTheUpstreamByAtLeastTheLatency() async throws {
        try await withProxy { fixture in
            let result = try await fixture.succeed("latency", "enable", "200")
            #expect(result.stdout.contains("latency: 200 ms, direction up"), "\(result)")
            let state = try await fixture.requireState()
            #expect(state.toxicNames == ["fixed_latency_up"], "\(state)")
            let toxic = try #require(state.toxic("fixed_latency_up"))
            #expect(toxic.type == "latency")
            #expect(toxic.stream == "upstream")
            #expect(toxic.toxicity == 1)
            #expect(toxic.attributes == ["latency": 200, "jitter": 0])
            for _ in 0..<2 {
                let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
                #expect(roundTrip >= 200, "round trip \(roundTrip) ms")
            }
        }
    }

    @Test
    func latencyInBothDirectionsDelaysEachWay() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "150", "--direction", "both")
            let state = try await fixture.requireState()
            #expect(state.toxic("fixed_latency_up")?.stream == "upstream")
            #expect(state.toxic("fixed_latency_down")?.stream == "downstream")
            #expect(state.toxic("fixed_latency_down")?.attributes["latency"] == 150)
            let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(roundTrip >= 300, "round trip \(roundTrip) ms")
        }
    }

    @Test
    func latencyDownWithJitterStaysWithinTheJitter() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "200", "--jitter", "50", "--direction", "down")
            let state = try await fixture.requireState()
            #expect(state.toxicNames == ["fixed_latency_down"], "\(state)")
            #expect(state.toxic("fixed_latency_down")?.attributes == ["latency": 200, "jitter": 50])
            let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(roundTrip >= 150, "round trip \(roundTrip) ms")
        }
    }

    @Test
    func latencyEnableAgainUpdatesTheToxicInPlace() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "100")
            let result = try await fixture.succeed("latency", "enable", "250")
            #expect(result.stdout.contains("PATCH /proxies/\(fixture.proxy)/toxics/fixed_latency_up"), "\(result)")
            let state = try await fixture.requireState()
            #expect(state.toxics.count == 1, "\(state)")
            #expect(state.toxic("fixed_latency_up")?.attributes["latency"] == 250)
            let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(roundTrip >= 250, "round trip \(roundTrip) ms")
        }
    }

    @Test
    func latencyDisableRemovesBothDirections() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "300", "--direction", "both")
            let delayed = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(delayed >= 600, "round trip \(delayed) ms with 300 ms each way")
            try await fixture.succeed("latency", "disable")
            let state = try await fixture.requireState()
            #expect(state.toxics.isEmpty, "\(state)")
            // Well under the latency that was set (a loaded test machine adds milliseconds, not hundreds).
            let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(roundTrip < 300, "round trip \(roundTrip) ms after latency disable")
        }
    }

    // MARK: timeout

    @Test
    func timeoutZeroSaysItHoldsForeverAndHoldsConnections() async throws {
        try await withProxy { fixture in
            let result = try await fixture.succeed("timeout", "enable", "--timeout-ms", "0")
            #expect(result.stdout.contains("hang forever"), "\(result)")
            #expect(!result.stdout.contains("0 ms"), "0 must not read as a zero wait: \(result)")
            let state = try await fixture.requireState()
            #expect(state.toxic("timeout_up")?.attributes == ["timeout": 0])
            #expect(state.toxic("timeout_down")?.attributes == ["timeout": 0])
            #expect(state.toxic("timeout_up")?.type == "timeout")
            // Watching a window proves that nothing happens in it: no echo, and no close.
            let watched = try await Traffic.watch(port: fixture.proxyPort, for: .milliseconds(600))
            #expect(watched.receivedBytes == 0)
            #expect(watched.closedAfter == nil, "closed after \(watched.closedAfter ?? 0) ms")
        }
    }

    @Test
    func timeoutClosesASilentConnectionAfterTheTimeout() async throws {
        try await withProxy { fixture in
            let result = try await fixture.succeed("timeout", "enable", "--timeout-ms", "300", "--timeout-stream", "up")
            #expect(result.stdout.contains("300 ms"), "\(result)")
            let state = try await fixture.requireState()
            #expect(state.toxicNames == ["timeout_up"], "\(state)")
            #expect(state.toxic("timeout_up")?.stream == "upstream")
            let watched = try await Traffic.watch(port: fixture.proxyPort, for: .seconds(3))
            #expect(watched.receivedBytes == 0)
            let closedAfter = try #require(watched.closedAfter, "the connection was not closed within 3 s")
            #expect(closedAfter >= 295, "closed after \(closedAfter) ms")
        }
    }

    @Test
    func timeoutOnOneStreamRemovesOurTimeoutOnTheOther() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("timeout", "enable", "--timeout-stream", "both")
            let result = try await fixture.succeed("timeout", "enable", "--timeout-stream", "down")
            #expect(result.stdout.contains("DELETE /proxies/\(fixture.proxy)/toxics/timeout_up"), "\(result)")
            let state = try await fixture.requireState()
            #expect(state.toxicNames == ["timeout_down"], "\(state)")
            #expect(state.toxic("timeout_down")?.attributes == ["timeout": 30000])
        }
    }

    @Test
    func timeoutDisableRemovesTheTimeoutsAndTrafficFlowsAgain() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "0")
            try await fixture.succeed("timeout", "disable")
            let state = try await fixture.requireState()
            #expect(state.toxics.isEmpty, "\(state)")
            #expect(try await Traffic.roundTrip(port: fixture.proxyPort) != nil)
        }
    }

    // MARK: outage

    @Test
    func outageRefusesNewConnectionsClosesLiveOnesAndEnds() async throws {
        try await withProxy { fixture in
            try await Traffic.withWatchedConnection(port: fixture.proxyPort) { watcher in
                try await fixture.succeed("outage", "enable")
                let closed = await watcher.waitForClose(timeout: .seconds(3))
                #expect(closed != nil, "a live connection must be closed by the outage")
            }
            #expect(try await fixture.requireState().enabled == false)
            #expect(await Traffic.refuses(port: fixture.proxyPort))
            try await fixture.succeed("outage", "disable")
            #expect(try await fixture.requireState().enabled)
            #expect(try await Traffic.roundTrip(port: fixture.proxyPort) != nil)
        }
    }

    // MARK: reset

    @Test
    func resetRemovesOnlyOurToxicsAndEndsTheOutage() async throws {
        try await withProxy { fixture in
            try await fixture.addForeignToxic(#"{"name":"their_noop","type":"noop","stream":"downstream"}"#)
            try await fixture.succeed("latency", "enable", "300", "--direction", "both")
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "0")
            try await fixture.succeed("outage", "enable")
            #expect(await Traffic.refuses(port: fixture.proxyPort))
            try await fixture.succeed("reset")
            let state = try await fixture.requireState()
            #expect(state.enabled)
            #expect(state.toxicNames == ["their_noop"], "\(state)")
            let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(roundTrip < 300, "round trip \(roundTrip) ms after reset, when 600 ms with the latency")
        }
    }

    // MARK: names

    @Test
    func customToxicNamesAreTheOnesCreatedAndRemoved() async throws {
        try await withProxy { fixture in
            try await fixture.addForeignToxic(
                #"{"name":"fixed_latency_up","type":"latency","stream":"upstream","attributes":{"latency":5}}"#
            )
            try await fixture.succeed("latency", "enable", "40", "--latency-toxics", "mine_up,mine_down")
            var state = try await fixture.requireState()
            #expect(state.toxicNames == ["fixed_latency_up", "mine_up"], "\(state)")
            try await fixture.succeed("latency", "disable", "--latency-toxics", "mine_up,mine_down")
            state = try await fixture.requireState()
            #expect(state.toxicNames == ["fixed_latency_up"], "\(state)")
            #expect(state.toxic("fixed_latency_up")?.attributes["latency"] == 5)
        }
    }
}
