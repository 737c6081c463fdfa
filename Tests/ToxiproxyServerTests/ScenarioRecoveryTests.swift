import Foundation
import NIOConcurrencyHelpers
import Testing
import ToxiproxyTestSupport

/// The recovery report against a client's own truth: a client that retries every 200 ms through outages, and
/// the report's recovery time of each outage → healthy transition.
@Suite
struct ScenarioRecoveryTests {
    @Test
    func recoveryTimesMatchWhatTheClientSaw() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "p", upstreamPort: echoPort)
                let created = try await server.admin.createScenario(
                    #"{"name":"outages","proxies":["p"],"lease":"none","timeline":["#
                        + #"{"repeat":3,"phases":[{"name":"up","duration":600},"#
                        + #"{"name":"down","duration":1000,"outage":true}]},{"name":"after","duration":1000}]}"#
                )
                let id = try #require(created["id"] as? String)
                let (origin, uncertainty) = try await server.admin.scenarioOrigin(id)

                // The client: one attempt every 200 ms (connect, send, read the echo); a failure waits for the
                // next tick. Ticks sit between phase boundaries, so each attempt is clearly in one phase.
                var attempts: [(startedMs: Double, result: EchoAttempt)] = []
                var tick = 0
                while true {
                    let at = origin + 100 + Double(tick) * 200
                    if at > origin + 5800 { break }
                    let wait = at - uptimeMilliseconds()
                    if wait > 0 { try await Task.sleep(for: .microseconds(Int(wait * 1000))) }
                    let started = uptimeMilliseconds()
                    attempts.append((started, await EchoAttempt.run(port: port, timeout: .milliseconds(150))))
                    tick += 1
                }

                let final = try await server.admin.waitForScenarioEnd(id, timeout: .seconds(10))
                #expect(final["end_reason"] as? String == "completed")
                let report = try await server.admin.get("/scenarios/\(id)/report").jsonObject()
                let transitions = try #require(report["transitions"] as? [[String: Any]])
                #expect(transitions.map { $0["from_phase"] as? Int } == [1, 3, 5], "\(transitions)")
                #expect(transitions.map { $0["to_phase"] as? Int } == [2, 4, 6], "\(transitions)")

                var errors: [Double] = []
                for transition in transitions {
                    let atMs = try #require(transition["at_ms"] as? Double)
                    let reported = try #require(transition["recovery_ms"] as? Double, "\(transition)")
                    let firstConnection = try #require(transition["first_connection_ms"] as? Double)
                    #expect(firstConnection <= reported, "\(transition)")
                    let transitionTime = origin + atMs
                    let firstEcho = attempts.compactMap { attempt -> Double? in
                        if case .echoed(let at) = attempt.result, at > transitionTime { return at }
                        return nil
                    }.min()
                    let truth = try #require(firstEcho, "no echo after the transition at \(atMs) ms") - transitionTime
                    errors.append(reported - truth)
                    #expect(abs(reported - truth) < 250, "reported \(reported) ms, client saw \(truth) ms")
                }
                print(
                    "scenario recovery: report - client truth per transition (ms): "
                        + errors.map { String(format: "%.1f", $0) }.joined(separator: ", ")
                        + String(format: " (scenario start known within ±%.2f ms)", uncertainty)
                )

                // Attempts land where the phases say: echoes in up phases, refusals in outages.
                for attempt in attempts {
                    let phaseStart = attempt.startedMs - origin
                    let inOutage = [(600.0, 1600.0), (2200, 3200), (3800, 4800)].contains {
                        phaseStart > $0.0 + 20 && phaseStart < $0.1 - 20
                    }
                    if inOutage {
                        #expect(attempt.result == .refused, "at \(phaseStart) ms: \(attempt.result)")
                    }
                }

                let phases = try #require(report["phases"] as? [[String: Any]])
                #expect(phases.count == 7)
                for phase in phases {
                    let outage = phase["outage"] as? Bool ?? false
                    #expect(phase["attempts_per_second"] is NSNull, "healthy and outage phases: \(phase)")
                    if outage {
                        #expect(phase["accepted"] as? Int == 0, "\(phase)")
                    } else {
                        #expect((phase["accepted"] as? Int ?? 0) > 0, "\(phase)")
                        #expect((phase["bytes_up"] as? Int ?? 0) > 0, "\(phase)")
                        #expect((phase["bytes_down"] as? Int ?? 0) > 0, "\(phase)")
                    }
                }
                let totals = try #require(report["totals"] as? [String: Any])
                let echoed = attempts.filter { $0.result.succeeded }.count
                #expect((totals["accepted"] as? Int ?? 0) >= echoed, "\(totals), \(echoed) echoes")
                #expect(totals["dial_failures"] as? Int == 0)
            }
        }
    }

    /// A latency phase is impaired but not an outage: the proxy sees the attempts, and reports their rate.
    @Test
    func impairedPhasesReportAttemptsPerSecond() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "p", upstreamPort: echoPort)
                let created = try await server.admin.createScenario(
                    #"{"proxies":["p"],"lease":"none","timeline":[{"name":"slow","duration":1000,"latency":{"ms":20}},"#
                        + #"{"name":"fine","duration":300}]}"#
                )
                let id = try #require(created["id"] as? String)
                var echoed = 0
                for _ in 0..<5 {
                    if await EchoAttempt.run(port: port, timeout: .milliseconds(150)).succeeded { echoed += 1 }
                }
                let final = try await server.admin.waitForScenarioEnd(id)
                #expect(final["end_reason"] as? String == "completed")
                let report = try await server.admin.get("/scenarios/\(id)/report").jsonObject()
                let phases = try #require(report["phases"] as? [[String: Any]])
                let slow = try #require(phases.first)
                #expect(slow["accepted"] as? Int == 5, "\(slow)")
                let rate = try #require(slow["attempts_per_second"] as? Double, "\(slow)")
                #expect(rate > 4 && rate < 6, "5 connections in about a second: \(rate)")
                #expect(echoed == 5)
                let transitions = try #require(report["transitions"] as? [[String: Any]])
                #expect(transitions.count == 1)
                // Nobody came after the switch: no recovery measured.
                #expect(transitions.first?["recovery_ms"] is NSNull, "\(transitions)")
            }
        }
    }
}
