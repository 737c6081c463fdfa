import Foundation
import NIOCore
import Testing
import ToxiproxyTestSupport

/// The `/scenarios` routes over a real socket: create, list, get, stop, heartbeat, report, their errors, and
/// the event stream (replay, re-attach, live events, a stream longer than the admin read timeout).
@Suite
struct ScenarioAPITests {
    /// A long latency phase on `proxy`, without a lease, so it runs until stopped.
    static func longLatency(_ proxy: String, name: String = "long") -> String {
        #"{"name":"\#(name)","proxies":["\#(proxy)"],"lease":"none","for":60000,"#
            + #""timeline":[{"name":"slow","duration":60000,"latency":{"ms":100}}]}"#
    }

    @Test
    func createListGetHeartbeatStopAndReport() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                _ = try await server.createProxy(name: "p", upstreamPort: echoPort)
                let body =
                    #"{"name":"api","proxies":["p"],"lease":{"grace":5000},"for":60000,"#
                    + #""timeline":[{"name":"slow","duration":60000,"latency":{"ms":100}}]}"#
                let response = try await server.admin.post("/scenarios", body)
                #expect(response.status == 201, "\(response)")
                #expect(response.header("Content-Type") == "application/json")
                let created = try response.jsonObject()
                let id = try #require(created["id"] as? String)
                #expect(id == "s1")
                #expect(created["name"] as? String == "api")
                #expect(created["proxies"] as? [String] == ["p"])
                #expect(created["state"] as? String == "running")
                #expect(created["end_reason"] is NSNull)
                let lease = try #require(created["lease"] as? [String: Any])
                #expect((lease["grace_ms"] as? Double) == 5000)
                let current = try #require(created["current_phase"] as? [String: Any])
                #expect(current["name"] as? String == "slow")
                #expect(current["impaired"] as? Bool == true)
                #expect((created["history"] as? [Any])?.count == 1)

                // The phase is applied: the scenario's toxic is on the proxy.
                let toxics = try await server.admin.get("/proxies/p/toxics").body
                #expect(toxics.contains(#""name":"fixed_latency_up""#), "\(toxics)")

                let list = try await server.admin.get("/scenarios")
                #expect(list.status == 200)
                let scenarios = try #require(try list.jsonObject()["scenarios"] as? [[String: Any]])
                #expect(scenarios.map { $0["id"] as? String } == ["s1"])
                #expect((scenarios.first?["history"] as? [Any])?.isEmpty == true, "lists carry no history")

                let status = try await server.admin.scenarioStatus(id)
                #expect(status["state"] as? String == "running")

                let heartbeat = try await server.admin.post("/scenarios/\(id)/heartbeat")
                #expect(heartbeat.status == 200, "\(heartbeat)")
                let left = try #require(try heartbeat.jsonObject()["lease_expires_in_ms"] as? Double)
                #expect(left > 4000 && left <= 5000, "\(left)")

                let report = try await server.admin.get("/scenarios/\(id)/report")
                #expect(report.status == 200, "\(report)")
                let reportObject = try report.jsonObject()
                #expect(reportObject["state"] as? String == "running")
                #expect((reportObject["phases"] as? [Any])?.count == 1)

                let stopped = try await server.admin.post("/scenarios/\(id)/stop")
                #expect(stopped.status == 200, "\(stopped)")
                let final = try stopped.jsonObject()
                #expect(final["state"] as? String == "ended")
                #expect(final["end_reason"] as? String == "stopped")
                #expect((final["lease"] as? [String: Any])?["expires_in_ms"] is NSNull)
                #expect(try await server.admin.get("/proxies/p/toxics").body == "[]")

                // Stopping again answers the same status; a heartbeat on an ended scenario is a conflict.
                let again = try await server.admin.post("/scenarios/\(id)/stop")
                #expect(again.status == 200)
                #expect(try again.jsonObject()["end_reason"] as? String == "stopped")
                #expect(try await server.admin.post("/scenarios/\(id)/heartbeat").status == 409)

                // Ids count up per server.
                let second = try await server.admin.createScenario(Self.longLatency("p"))
                #expect(second["id"] as? String == "s2")
                let newestFirst = try await server.admin.get("/scenarios").jsonObject()["scenarios"] as? [[String: Any]]
                #expect(newestFirst?.map { $0["id"] as? String } == ["s2", "s1"])
                // Without a lease there is nothing to renew.
                #expect(try await server.admin.post("/scenarios/s2/heartbeat").status == 409)
                #expect(try await server.admin.post("/scenarios/s2/stop").status == 200)
            }
        }
    }

    @Test
    func invalidScenarioIs400NamingTheField() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let body =
                #"{"proxies":["p"],"timeline":[{"duration":1000},{"duration":1000,"latency":{"ms":-5}}]}"#
            let response = try await server.admin.post("/scenarios", body)
            #expect(response.status == 400)
            let object = try response.jsonObject()
            #expect(object["status"] as? Int == 400)
            let message = try #require(object["error"] as? String)
            #expect(message.hasPrefix("timeline[1].latency.ms: "), "\(message)")
            #expect(try await server.admin.get("/scenarios").body == #"{"scenarios":[]}"#)
            // Not JSON at all.
            #expect(try await server.admin.post("/scenarios", "{nope").status == 400)
        }
    }

    @Test
    func unknownProxyAndUnknownIdAre404() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let response = try await server.admin.post(
                "/scenarios",
                #"{"proxies":["p","nope"],"timeline":[{"duration":1000}]}"#
            )
            #expect(response.status == 404)
            #expect(try response.jsonObject()["error"] as? String == "proxies[1]: proxy not found: nope")
            for path in ["/scenarios/s9", "/scenarios/s9/report", "/scenarios/s9/events"] {
                #expect(try await server.admin.get(path).status == 404, "\(path)")
            }
            #expect(try await server.admin.post("/scenarios/s9/stop").status == 404)
            #expect(try await server.admin.post("/scenarios/s9/heartbeat").status == 404)
        }
    }

    @Test
    func secondScenarioOnAProxyIsAConflict() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "a", upstreamPort: 9)
            _ = try await server.createProxy(name: "b", upstreamPort: 9)
            let first = try await server.admin.createScenario(Self.longLatency("a"))
            let conflict = try await server.admin.post(
                "/scenarios",
                #"{"proxies":["b","a"],"lease":"none","timeline":[{"duration":1000}]}"#
            )
            #expect(conflict.status == 409, "\(conflict)")
            // Another proxy is free, and once the first ended its proxy is too.
            #expect(try await server.admin.post("/scenarios", Self.longLatency("b")).status == 201)
            #expect(try await server.admin.post("/scenarios/\(first["id"] as! String)/stop").status == 200)
            #expect(try await server.admin.post("/scenarios", Self.longLatency("a")).status == 201)
        }
    }

    @Test
    func routesAnswer405AndBlockBrowsersLikeTheOthers() async throws {
        try await withTestServer { server in
            #expect(try await server.admin.delete("/scenarios").status == 405)
            #expect(try await server.admin.get("/scenarios/s1/stop").status == 405)
            #expect(try await server.admin.post("/scenarios/s1/events").status == 405)
            #expect(try await server.admin.send("MOVE", "/scenarios/s1/report").status == 405)
            #expect(try await server.admin.get("/scenarios/s1/nope").status == 404)
            let browser = try await server.admin.send(
                "GET",
                "/scenarios",
                headers: [("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")]
            )
            #expect(browser.status == 403)
        }
    }

    @Test
    func eventsReplayFromTheStartAndAfterLastEventID() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let created = try await server.admin.createScenario(
                #"{"proxies":["p"],"lease":"none","timeline":[{"name":"one","duration":50},"#
                    + #"{"name":"two","duration":50,"outage":true},{"name":"three","duration":50}]}"#
            )
            let id = try #require(created["id"] as? String)
            _ = try await server.admin.waitForScenarioEnd(id)

            let stream = try await EventStreamClient.open(port: server.adminPort, path: "/scenarios/\(id)/events")
            let (all, ended) = await stream.wait { $0.ended }
            await stream.close()
            #expect(ended, "the stream of an ended scenario ends after its replay")
            #expect(all.status == 200)
            #expect(all.header("Content-Type") == "text/event-stream")
            #expect(all.endedCleanly)
            #expect(all.events.map(\.kind) == ["started", "phase", "phase", "phase", "ended"], "\(all.events)")
            #expect(all.events.map(\.id) == [1, 2, 3, 4, 5])
            let last = try #require(all.events.last)
            let data = try #require(try JSONSerialization.jsonObject(with: Data(last.data.utf8)) as? [String: Any])
            #expect(data["end_reason"] as? String == "completed")
            #expect(data["kind"] as? String == "ended")

            let resumed = try await EventStreamClient.open(
                port: server.adminPort,
                path: "/scenarios/\(id)/events",
                lastEventID: 3
            )
            let (rest, restEnded) = await resumed.wait { $0.ended }
            await resumed.close()
            #expect(restEnded)
            #expect(rest.events.map(\.id) == [4, 5], "\(rest.events)")
        }
    }

    @Test
    func liveEventsArriveAndTheStreamEndsWithTheScenario() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let created = try await server.admin.createScenario(
                #"{"proxies":["p"],"lease":"none","for":60000,"timeline":[{"name":"a","duration":100},"#
                    + #"{"name":"b","duration":60000,"latency":{"ms":10}}]}"#
            )
            let id = try #require(created["id"] as? String)
            let stream = try await EventStreamClient.open(port: server.adminPort, path: "/scenarios/\(id)/events")
            let (live, sawB) = await stream.wait { snapshot in
                snapshot.events.contains { $0.kind == "phase" && $0.data.contains(#""name":"b""#) }
            }
            #expect(sawB, "\(live.events)")
            #expect(!live.ended)
            #expect(try await server.admin.post("/scenarios/\(id)/stop").status == 200)
            let (final, ended) = await stream.wait { $0.ended }
            await stream.close()
            #expect(ended)
            #expect(final.endedCleanly)
            #expect(final.events.last?.kind == "ended", "\(final.events)")
            #expect(final.events.last?.data.contains(#""end_reason":"stopped""#) == true)
        }
    }

    /// The admin API closes connections idle for its read timeout; an event stream sends nothing between
    /// phases, and must not be cut.
    @Test
    func streamOutlivesTheAdminReadTimeout() async throws {
        try await withTestServer(requestReadTimeout: .milliseconds(300)) { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let created = try await server.admin.createScenario(
                #"{"proxies":["p"],"lease":"none","timeline":[{"name":"a","duration":1200},"#
                    + #"{"name":"b","duration":300,"outage":true}]}"#
            )
            let id = try #require(created["id"] as? String)
            let opened = ContinuousClock.now
            let stream = try await EventStreamClient.open(port: server.adminPort, path: "/scenarios/\(id)/events")
            let (final, ended) = await stream.wait(timeout: .seconds(10)) { $0.ended }
            let lasted = ContinuousClock.now - opened
            await stream.close()
            #expect(ended)
            #expect(final.endedCleanly, "the server ended the response; it did not drop the connection")
            #expect(final.events.last?.kind == "ended", "\(final.events)")
            #expect(lasted > .milliseconds(1000), "\(lasted): the stream lasted over three read timeouts")
        }
    }

    @Test
    func anIdleStreamGetsKeepAliveComments() async throws {
        try await withTestServer(scenarioKeepAliveInterval: .milliseconds(100)) { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let created = try await server.admin.createScenario(
                #"{"proxies":["p"],"lease":"none","timeline":[{"name":"long","duration":30000}]}"#
            )
            let id = try #require(created["id"] as? String)
            let stream = try await EventStreamClient.open(port: server.adminPort, path: "/scenarios/\(id)/events")
            let (snapshot, gotThree) = await stream.wait(timeout: .seconds(10)) { $0.comments.count >= 3 }
            await stream.close()
            #expect(gotThree, "comments: \(snapshot.comments)")
            #expect(snapshot.comments.allSatisfy { $0.contains("keep-alive") }, "\(snapshot.comments)")
            // Only the replayed `started` and `phase` events: the comments carry no event.
            #expect(snapshot.events.map(\.kind) == ["started", "phase"], "\(snapshot.events)")
            _ = try await server.admin.post("/scenarios/\(id)/stop", "")
        }
    }
}
