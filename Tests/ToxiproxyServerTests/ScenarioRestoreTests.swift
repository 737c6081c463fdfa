import Foundation
import Testing
import ToxiproxyTestSupport

/// What a scenario leaves behind: exactly the state from before it, except what someone else changed on a
/// managed item meanwhile (kept, and reported); and the lease that ends it when its operator goes away.
@Suite
struct ScenarioRestoreTests {
    @Test
    func proxiesAfterTheEndEqualThoseBefore() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "a", upstreamPort: 9)
            _ = try await server.createProxy(name: "b", upstreamPort: 9)
            // A toxic of the scenario's names existed before (restored to its settings), another one is not
            // the scenario's (never touched), and one proxy starts disabled.
            try await server.addToxic(
                proxy: "a",
                #"{"name":"fixed_latency_up","type":"latency","attributes":{"latency":7}}"#
            )
            try await server.addToxic(proxy: "a", #"{"name":"mine","type":"slicer","attributes":{"average_size":5}}"#)
            try await server.setEnabled(proxy: "b", false)
            let before = try await server.admin.get("/proxies").body

            let created = try await server.admin.createScenario(
                #"{"proxies":["a","b"],"lease":"none","timeline":["#
                    + #"{"name":"slow","duration":80,"latency":{"ms":300,"direction":"both"},"bandwidth":{"rate":5}},"#
                    + #"{"name":"hang","duration":80,"timeout":{"ms":0}},"#
                    + #"{"name":"down","duration":80,"outage":true,"proxies":["a"]},"#
                    + #"{"name":"odd","duration":80,"toxics":[{"type":"slicer","stream":"upstream","attributes":{"average_size":3}}]}]}"#
            )
            let id = try #require(created["id"] as? String)
            let final = try await server.admin.waitForScenarioEnd(id)
            #expect(final["end_reason"] as? String == "completed")
            #expect((final["kept"] as? [Any])?.isEmpty == true, "\(final)")
            #expect((final["restore_errors"] as? [Any])?.isEmpty == true, "\(final)")
            #expect((final["history"] as? [Any])?.count == 4)

            let after = try await server.admin.get("/proxies").body
            // A managed toxic that a phase removed comes back at the end of its chain: the restore never
            // touches the toxics that are not the scenario's to move them around it.
            #expect(try Self.proxies(after) == Self.proxies(before), "before: \(before)\nafter:  \(after)")
        }
    }

    @Test
    func aToxicAddedDuringTheScenarioSurvivesTheRestore() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let id = try #require(
                try await server.admin.createScenario(ScenarioAPITests.longLatency("p"))["id"] as? String
            )
            try await server.addToxic(proxy: "p", #"{"name":"manual","type":"latency","attributes":{"latency":1}}"#)
            let stopped = try await server.admin.post("/scenarios/\(id)/stop")
            #expect(stopped.status == 200)
            #expect((try stopped.jsonObject()["kept"] as? [Any])?.isEmpty == true)
            let toxics = try Self.json(try await server.admin.get("/proxies/p/toxics").body) as? [[String: Any]]
            #expect(toxics?.map { $0["name"] as? String } == ["manual"])
        }
    }

    @Test
    func aManagedToxicChangedBySomeoneElseIsKeptAndReported() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let id = try #require(
                try await server.admin.createScenario(ScenarioAPITests.longLatency("p"))["id"] as? String
            )
            let changed = try await server.admin.post(
                "/proxies/p/toxics/fixed_latency_up",
                #"{"attributes":{"latency":999}}"#
            )
            #expect(changed.status == 200)
            let stopped = try await server.admin.post("/scenarios/\(id)/stop")
            let kept = try #require(try stopped.jsonObject()["kept"] as? [[String: Any]])
            #expect(kept.count == 1, "\(kept)")
            #expect(kept.first?["proxy"] as? String == "p")
            #expect(kept.first?["item"] as? String == "toxic fixed_latency_up")
            // It is left as the other client set it.
            let toxic = try Self.json(try await server.admin.get("/proxies/p/toxics/fixed_latency_up").body)
            #expect(((toxic as? [String: Any])?["attributes"] as? [String: Any])?["latency"] as? Int == 999)
            // The report and the `ended` event say so too.
            let report = try await server.admin.get("/scenarios/\(id)/report").jsonObject()
            #expect((report["kept"] as? [[String: Any]])?.first?["item"] as? String == "toxic fixed_latency_up")
            let stream = try await EventStreamClient.open(port: server.adminPort, path: "/scenarios/\(id)/events")
            let (events, _) = await stream.wait { $0.ended }
            await stream.close()
            #expect(events.events.last?.kind == "ended")
            #expect(events.events.last?.data.contains("toxic fixed_latency_up") == true, "\(events.events)")
        }
    }

    @Test
    func noHeartbeatEndsTheScenarioWhenTheLeaseExpires() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let created = ContinuousClock.now
            let status = try await server.admin.createScenario(
                #"{"proxies":["p"],"lease":{"grace":1000},"for":60000,"#
                    + #""timeline":[{"name":"slow","duration":60000,"latency":{"ms":100}}]}"#
            )
            let id = try #require(status["id"] as? String)
            let final = try await server.admin.waitForScenarioEnd(id, timeout: .seconds(5))
            let ended = ContinuousClock.now - created
            #expect(final["end_reason"] as? String == "lease_expired")
            #expect(ended < .seconds(2), "\(ended): grace 1 s + 1 s")
            #expect(ended >= .milliseconds(1000), "\(ended)")
            #expect(try await server.admin.get("/proxies/p/toxics").body == "[]")
        }
    }

    @Test
    func heartbeatsKeepTheScenarioAlivePastTheGrace() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "p", upstreamPort: 9)
            let status = try await server.admin.createScenario(
                #"{"proxies":["p"],"lease":{"grace":1000},"for":60000,"#
                    + #""timeline":[{"name":"slow","duration":60000,"latency":{"ms":100}}]}"#
            )
            let id = try #require(status["id"] as? String)
            let until = ContinuousClock.now + .milliseconds(2500)
            // toxictl's pace: a third of the grace.
            while ContinuousClock.now < until {
                let beat = try await server.admin.post("/scenarios/\(id)/heartbeat")
                #expect(beat.status == 200, "\(beat)")
                try await Task.sleep(for: .milliseconds(333))
            }
            #expect(try await server.admin.scenarioStatus(id)["state"] as? String == "running")
            #expect(try await server.admin.post("/scenarios/\(id)/stop").status == 200)
        }
    }

    /// `GET /proxies` with each proxy's toxics in name order.
    static func proxies(_ text: String) throws -> NSObject {
        guard var proxies = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: [String: Any]] else {
            throw TestFailure("not a proxy list: \(text)")
        }
        for (name, var proxy) in proxies {
            let toxics = proxy["toxics"] as? [[String: Any]] ?? []
            proxy["toxics"] = toxics.sorted { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }
            proxies[name] = proxy
        }
        return proxies as NSDictionary
    }

    static func json(_ text: String) throws -> NSObject {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as! NSObject
    }
}
