import Testing
import ToxiproxyTestSupport

/// Latency, timeout and outage are independent: each command changes only its own impairment (the seed
/// workflow's disabling of a timeout re-enabled a disabled proxy, ending an outage).
@Suite
struct ToxictlIndependenceTests {
    @Test
    func timeoutDisableDoesNotEndAnOutage() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("outage", "enable")
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "0")
            let result = try await fixture.succeed("timeout", "disable")
            #expect(!result.stdout.contains(#"{"enabled":true}"#), "\(result)")
            let state = try await fixture.requireState()
            #expect(state.enabled == false, "the outage must survive: \(state)")
            #expect(state.toxics.isEmpty, "\(state)")
            #expect(await Traffic.refuses(port: fixture.proxyPort))
        }
    }

    @Test
    func latencyDisableLeavesTheTimeouts() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "0")
            try await fixture.succeed("latency", "enable", "100", "--direction", "both")
            let timeoutsBefore = try await fixture.requireState().toxics.filter { $0.type == "timeout" }
            try await fixture.succeed("latency", "disable")
            let state = try await fixture.requireState()
            #expect(state.toxics == timeoutsBefore, "\(state)")
            #expect(state.toxicNames == ["timeout_up", "timeout_down"])
            let watched = try await Traffic.watch(port: fixture.proxyPort, for: .milliseconds(400))
            #expect(watched.receivedBytes == 0, "the timeout still holds traffic")
            #expect(watched.closedAfter == nil)
        }
    }

    @Test
    func timeoutEnableLeavesLatencyAndOutage() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "100")
            try await fixture.succeed("outage", "enable")
            let latencyBefore = try await fixture.requireState().toxic("fixed_latency_up")
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "1000")
            let state = try await fixture.requireState()
            #expect(state.enabled == false, "\(state)")
            #expect(state.toxic("fixed_latency_up") == latencyBefore, "\(state)")
            #expect(state.toxicNames == ["fixed_latency_up", "timeout_up", "timeout_down"], "\(state)")
        }
    }

    @Test
    func outageLeavesToxicsInBothDirections() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "200")
            let before = try await fixture.requireState().toxics
            try await fixture.succeed("outage", "enable")
            #expect(try await fixture.requireState().toxics == before)
            try await fixture.succeed("outage", "disable")
            let state = try await fixture.requireState()
            #expect(state.enabled)
            #expect(state.toxics == before, "\(state)")
            let roundTrip = try #require(try await Traffic.roundTrip(port: fixture.proxyPort))
            #expect(roundTrip >= 200, "the latency must still apply: \(roundTrip) ms")
        }
    }

    @Test
    func latencyEnableDoesNotEndAnOutage() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("outage", "enable")
            try await fixture.succeed("latency", "enable", "100", "--direction", "both")
            try await fixture.succeed("latency", "disable")
            #expect(try await fixture.requireState().enabled == false)
            #expect(await Traffic.refuses(port: fixture.proxyPort))
        }
    }
}
