import Foundation
import Testing
import ToxiproxyTestSupport

/// Phases start on time, on the server's own clock, and the traffic follows them.
@Suite
struct ScenarioScheduleTests {
    /// 20 × (150 ms up, 150 ms outage): every phase starts within 30 ms of its due time, and a client sampling
    /// mid-phase gets its echo in up phases and a refused connection in outages.
    @Test
    func flapPhasesStartOnTimeAndTrafficFollows() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "p", upstreamPort: echoPort)
                let created = try await server.admin.createScenario(
                    #"{"name":"flap","proxies":["p"],"lease":"none","timeline":[{"repeat":20,"phases":["#
                        + #"{"name":"up","duration":150},{"name":"down","duration":150,"outage":true}]}]}"#
                )
                let id = try #require(created["id"] as? String)
                #expect(created["phase_count"] as? Int == 40)
                let (origin, uncertainty) = try await server.admin.scenarioOrigin(id)

                // Samples at the middle of phases 4...13, each on the server's schedule.
                var samples: [(phase: Int, attempt: EchoAttempt)] = []
                for phase in 4...13 {
                    let middle = origin + Double(phase) * 150 + 75
                    let wait = middle - uptimeMilliseconds()
                    if wait > 0 { try await Task.sleep(for: .microseconds(Int(wait * 1000))) }
                    samples.append((phase, await EchoAttempt.run(port: port, timeout: .milliseconds(50))))
                }

                let final = try await server.admin.waitForScenarioEnd(id, timeout: .seconds(15))
                #expect(final["end_reason"] as? String == "completed")
                let history = try #require(final["history"] as? [[String: Any]])
                #expect(history.count == 40)
                let lateness = history.compactMap { entry -> Double? in
                    guard let due = entry["due_ms"] as? Double, let started = entry["started_ms"] as? Double else {
                        return nil
                    }
                    return started - due
                }
                #expect(lateness.count == 40)
                let maximum = lateness.max() ?? .infinity
                let mean = lateness.reduce(0, +) / Double(max(1, lateness.count))
                print(
                    "scenario schedule: 40 phases of 150 ms, lateness max \(Self.format(maximum)) ms, mean "
                        + "\(Self.format(mean)) ms (scenario start known within ±\(Self.format(uncertainty)) ms)"
                )
                #expect(maximum < 30, "lateness \(lateness)")
                #expect(lateness.allSatisfy { $0 >= 0 })
                for (index, entry) in history.enumerated() {
                    #expect(entry["due_ms"] as? Double == Double(index) * 150, "\(entry)")
                    #expect(entry["outage"] as? Bool == (index % 2 == 1), "\(entry)")
                }
                for (phase, attempt) in samples {
                    if phase % 2 == 0 {
                        #expect(attempt.succeeded, "phase \(phase) (up): \(attempt)")
                    } else {
                        #expect(attempt == .refused, "phase \(phase) (outage): \(attempt)")
                    }
                }
                // The proxy is enabled again at the end.
                #expect(await EchoAttempt.run(port: port, timeout: .seconds(2)).succeeded)
            }
        }
    }

    static func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}
