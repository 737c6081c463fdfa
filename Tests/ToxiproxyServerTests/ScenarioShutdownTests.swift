import Foundation
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `toxiproxy-server` stops every scenario and restores before it exits on SIGTERM, even with an
/// event stream open (which would otherwise hold the graceful shutdown).
@Suite
struct ScenarioShutdownTests {
    @Test
    func sigtermMidOutageRestoresAndExitsZero() async throws {
        try await withEchoServer { echoPort in
            let adminPort = try await Loopback.freePort()
            let product = try ProductProcess.start(
                "toxiproxy-server",
                unsetting: ["LOG_LEVEL"]
            ) { directory in
                let config = directory.appendingPathComponent("config.json")
                try Data(#"[{"name":"p","listen":"127.0.0.1:0","upstream":"127.0.0.1:\#(echoPort)"}]"#.utf8)
                    .write(to: config)
                return ["-host", "127.0.0.1", "-port", "\(adminPort)", "-config", config.path]
            }
            defer { product.cleanUp() }
            let admin = AdminClient(port: adminPort)
            let ready = await eventually(timeout: .seconds(10)) {
                (try? await admin.get("/version").status) == 200
            }
            try #require(ready, "the admin API did not answer: \(product.stdout) \(product.stderr)")

            let created = try await admin.createScenario(
                #"{"name":"bye","proxies":["p"],"lease":"none","for":60000,"timeline":["#
                    + #"{"name":"up","duration":100},{"name":"down","duration":60000,"outage":true}]}"#
            )
            let id = try #require(created["id"] as? String)
            let inOutage = await eventually {
                let status = try? await admin.scenarioStatus(id)
                return (status?["current_phase"] as? [String: Any])?["outage"] as? Bool == true
            }
            try #require(inOutage)
            #expect(try await admin.get("/proxies/p").jsonObject()["enabled"] as? Bool == false)
            let stream = try await EventStreamClient.open(port: adminPort, path: "/scenarios/\(id)/events")
            _ = await stream.wait { $0.events.count >= 3 }

            try await product.stop(signal: SIGTERM, within: .seconds(5))
            #expect(product.terminationReason == .exit)
            #expect(product.exitStatus == 0, "\(product.stderr)")

            let (events, ended) = await stream.wait { $0.ended }
            await stream.close()
            #expect(ended)
            #expect(events.events.last?.kind == "ended", "\(events.events)")
            #expect(events.events.last?.data.contains(#""end_reason":"shutdown""#) == true, "\(events.events)")

            // The log: the scenario stopped and restored (the proxy re-enabled) before the proxies stopped.
            let lines = product.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let messages = lines.map { $0["message"] as? String ?? "" }
            let stopped = messages.firstIndex { $0.hasPrefix("Stopped scenario \(id)") && $0.contains("restored") }
            let stoppedIndex = try #require(stopped, "\(product.stdout)")
            #expect(messages[stoppedIndex].contains("shutdown"))
            let restarted = messages.indices.filter { messages[$0] == "Started proxy" }
            let terminated = messages.indices.filter { messages[$0] == "Terminated proxy" }
            // Started by the config file, then again by the restore (the outage had stopped it).
            #expect(restarted.filter { $0 < stoppedIndex }.count == 2, "the restore re-enabled the proxy: \(messages)")
            #expect(terminated.last.map { $0 > stoppedIndex } == true, "then the proxies stopped: \(messages)")
        }
    }
}
