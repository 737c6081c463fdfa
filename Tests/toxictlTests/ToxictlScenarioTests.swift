import Foundation
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `toxictl scenario ...` and `--for` against real servers on 127.0.0.1: the server runs the timeline, toxictl
/// starts, follows, stops and reports it; a server without scenarios gets a clear refusal (or, for flap, the
/// flap driven by toxictl).
@Suite
struct ToxictlScenarioTests {
    /// Writes `text` to a scenario file of its own and returns its path.
    static func file(_ text: String, name: String = "scenario.yaml") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "toxictl-scenario-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// The first scenario id (`s1`, `s2`, ...) a line names after `started scenario `.
    static func startedID(_ stdout: String) -> String? {
        guard let match = stdout.firstMatch(of: #/started scenario (s\d+)/#) else { return nil }
        return String(match.1)
    }

    /// `GET /proxies` parsed, for comparing the whole server state before and after.
    static func allProxies(_ fixture: ProxyFixture) async throws -> NSDictionary {
        let response = try await fixture.admin.get("/proxies")
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? NSDictionary
        else { throw TestFailure("GET /proxies: \(response)") }
        return object
    }

    static let smallScenario = """
        name: small
        proxies: [api_groundlight_ai]
        lease: {grace: 5s}
        timeline:
          - {name: calm, duration: 200ms}
          - {name: slow, duration: 300ms, latency: {ms: 100}}
          - {name: down, duration: 300ms, outage: true}
          - {name: back, duration: 200ms}
        """

    /// A file run to its end with --follow: the target line first, every phase as it happens, the end with its
    /// reason and the restore, the report summary; exit 0, and the proxy exactly as before.
    @Test(.timeLimit(.minutes(1)))
    func runFollowPrintsEveryPhaseAndRestores() async throws {
        try await withProxy { fixture in
            try await fixture.addForeignToxic(#"{"name":"their_noop","type":"noop"}"#)
            let before = try await fixture.rawState()
            let path = try Self.file(Self.smallScenario)
            let result = try await fixture.toxictl("scenario", "run", path, "--follow", within: .seconds(20))
            #expect(result.status == 0 && result.exitedNormally, "\(result)")
            #expect(result.firstLine.hasPrefix("target: \(fixture.adminURL) (--admin-url), proxy api_groundlight_ai"))
            for (index, name) in ["calm", "slow", "down", "back"].enumerated() {
                #expect(result.stdout.contains("phase \(index + 1)/4 \"\(name)\""), "phase \(name): \(result.stdout)")
            }
            #expect(result.stdout.contains(#"phase 3/4 "down"  outage"#), "\(result.stdout)")
            #expect(result.stdout.contains(#"phase 2/4 "slow"  impaired"#), "\(result.stdout)")
            #expect(result.stdout.contains("ended: completed"), "\(result.stdout)")
            #expect(result.stdout.contains("restored: the proxies are as they were"), "\(result.stdout)")
            #expect(result.stdout.contains("report: 4 phase(s)"), "\(result.stdout)")
            #expect(result.stdout.contains("full report: toxictl scenario report s"), "\(result.stdout)")
            #expect(try await fixture.rawState() == before)
        }
    }

    /// Without --follow the phases are not printed, only the start, the end and the report; -o json gives
    /// one object with the final status and the report.
    @Test(.timeLimit(.minutes(1)))
    func runWithoutFollowAndAsJSON() async throws {
        try await withProxy { fixture in
            let path = try Self.file(
                """
                proxies: [api_groundlight_ai]
                timeline: [{name: only, duration: 150ms, latency: {ms: 10}}]
                """
            )
            let text = try await fixture.toxictl("scenario", "run", path)
            #expect(text.status == 0, "\(text)")
            #expect(text.stdout.contains("started scenario s"), "\(text.stdout)")
            #expect(!text.stdout.contains("phase 1/1"), "phases printed without --follow: \(text.stdout)")
            #expect(text.stdout.contains("ended: completed"), "\(text.stdout)")

            let json = try await fixture.toxictl("scenario", "run", path, "-o", "json")
            #expect(json.status == 0, "\(json)")
            let object = try #require(json.jsonObject, "\(json.stdout)")
            let scenario = object["scenario"] as? [String: Any]
            #expect(scenario?["state"] as? String == "ended")
            #expect(scenario?["end_reason"] as? String == "completed")
            #expect((object["report"] as? [String: Any])?["phases"] is [Any], "\(json.stdout)")
        }
    }

    /// --detach starts it without a lease and exits; list and status show it; stop ends it and restores; a
    /// second stop says it had ended; an unknown id is a clear error.
    @Test(.timeLimit(.minutes(1)))
    func detachListStatusStop() async throws {
        try await withProxy { fixture in
            let before = try await fixture.rawState()
            let path = try Self.file(
                """
                name: long-outage
                proxies: [api_groundlight_ai]
                for: 1m
                timeline: [{name: down, duration: 1m, outage: true}]
                """
            )
            let started = try await fixture.toxictl("scenario", "run", path, "--detach")
            #expect(started.status == 0, "\(started)")
            let id = try #require(Self.startedID(started.stdout), "\(started.stdout)")
            #expect(started.stdout.contains("toxictl scenario stop \(id) --admin-url \(fixture.adminURL)"))
            #expect(try await waitUntil { try await fixture.requireState().enabled == false })

            let list = try await fixture.toxictl("scenario", "list")
            #expect(list.status == 0, "\(list)")
            let row = list.lines.first { $0.hasPrefix(id + " ") }
            #expect(row?.contains("long-outage") == true && row?.contains("running") == true, "\(list.stdout)")
            #expect(row?.hasSuffix("none") == true, "a detached scenario has no lease: \(list.stdout)")
            let listJSON = try await fixture.toxictl("scenario", "list", "-o", "json")
            let listed = try #require(listJSON.jsonObject?["scenarios"] as? [[String: Any]], "\(listJSON)")
            #expect(listed.contains { $0["id"] as? String == id && $0["lease"] is NSNull }, "\(listJSON.stdout)")

            let status = try await fixture.toxictl("scenario", "status", id)
            #expect(status.status == 0, "\(status)")
            #expect(status.stdout.contains("state: running"), "\(status.stdout)")
            #expect(status.stdout.contains("lease: none"), "\(status.stdout)")
            #expect(status.stdout.contains(#"phase 1/1 "down" outage"#), "\(status.stdout)")

            let stop = try await fixture.toxictl("scenario", "stop", id)
            #expect(stop.status == 0, "\(stop)")
            #expect(stop.stdout.contains("stopped scenario \(id)"), "\(stop.stdout)")
            #expect(stop.stdout.contains("restored"), "\(stop.stdout)")
            #expect(try await fixture.rawState() == before)

            let again = try await fixture.toxictl("scenario", "stop", id)
            #expect(again.status == 0 && again.stdout.contains("had already ended"), "\(again)")
            let ended = try await fixture.toxictl("scenario", "status", id)
            #expect(ended.status == 1 && ended.stdout.contains("ended: stopped"), "stopped is not as planned: \(ended)")

            let unknown = try await fixture.toxictl("scenario", "status", "s999")
            #expect(unknown.status == 1 && unknown.stderr.contains("no such scenario"), "\(unknown)")
        }
    }

    /// `attach` follows a detached scenario from its start (or after --after N) to its end, and exits as `run`.
    @Test(.timeLimit(.minutes(1)))
    func attachFollowsADetachedScenarioToItsEnd() async throws {
        try await withProxy { fixture in
            let path = try Self.file(
                """
                proxies: [api_groundlight_ai]
                timeline:
                  - {name: one, duration: 1500ms, latency: {ms: 10}}
                  - {name: two, duration: 1500ms}
                """
            )
            let started = try await fixture.toxictl("scenario", "run", path, "--detach")
            let id = try #require(Self.startedID(started.stdout), "\(started)")
            let attached = try await fixture.toxictl("scenario", "attach", id)
            #expect(attached.status == 0, "\(attached)")
            #expect(attached.stdout.contains("no lease; SIGINT/SIGTERM only detaches"), "\(attached.stdout)")
            #expect(attached.stdout.contains("  started"), "from the start: \(attached.stdout)")
            #expect(attached.stdout.contains(#"phase 1/2 "one""#), "\(attached.stdout)")
            #expect(attached.stdout.contains(#"phase 2/2 "two""#), "\(attached.stdout)")
            #expect(attached.stdout.contains("ended: completed"), "\(attached.stdout)")
            // Replayed after event 2 (started, phase one): only phase two and the end.
            let later = try await fixture.toxictl("scenario", "attach", id, "--after", "2", "-o", "json")
            #expect(later.status == 0, "\(later)")
            let events = later.lines.compactMap { line in
                try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }.filter { $0["kind"] != nil }
            #expect(events.map { $0["kind"] as? String ?? "" } == ["phase", "ended"], "\(later.stdout)")
        }
    }

    /// SIGINT while attached stops the scenario (the server restores) and exits 130.
    @Test(.timeLimit(.minutes(1)))
    func sigintStopsTheScenarioAndExits130() async throws {
        try await withProxy { fixture in
            let before = try await fixture.rawState()
            let path = try Self.file(
                """
                proxies: [api_groundlight_ai]
                timeline: [{name: down, duration: 30s, outage: true}]
                """
            )
            let process = try await fixture.start("scenario", "run", path, "--follow")
            defer { process.cleanUp() }
            let down = try await process.waitForStdout(within: .seconds(10)) { $0.contains(#""down"  outage"#) }
            try #require(down != nil, "\(process.stdout) \(process.stderr)")
            #expect(try await fixture.requireState().enabled == false)
            process.send(signal: SIGINT)
            #expect(try await process.waitForExit(within: .seconds(5)), "\(process.stdout)")
            let result = process.completed
            #expect(result.exitedNormally && result.status == 130, "\(result)")
            #expect(result.stdout.contains("stopped by SIGINT"), "\(result.stdout)")
            #expect(result.stdout.contains("restored"), "\(result.stdout)")
            #expect(try await fixture.rawState() == before)
        }
    }

    /// The issue's must-have: toxictl killed with SIGKILL mid-outage cannot restore anything itself; the lease
    /// does. The proxy is healthy again within grace + 1 s, and the whole server state is as before.
    @Test(.timeLimit(.minutes(1)))
    func sigkillMidOutageTheLeaseRestoresWithinGracePlusOneSecond() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "20")
            let before = try await Self.allProxies(fixture)
            let path = try Self.file(
                """
                proxies: [api_groundlight_ai]
                lease: {grace: 2s}
                timeline: [{name: down, duration: 30s, outage: true}]
                """
            )
            let process = try await fixture.start("scenario", "run", path, "--follow")
            defer { process.cleanUp() }
            let down = try await process.waitForStdout(within: .seconds(10)) { $0.contains(#""down"  outage"#) }
            try #require(down != nil, "\(process.stdout) \(process.stderr)")
            #expect(await Traffic.refuses(port: fixture.proxyPort))
            process.send(signal: SIGKILL)
            let killed = ContinuousClock.now
            #expect(try await process.waitForExit(within: .seconds(2)))
            let healthy = try await waitUntil(within: .seconds(4)) {
                try await fixture.requireState().enabled
            }
            let elapsed = ContinuousClock.now - killed
            print("toxictl killed (SIGKILL) mid-outage, lease grace 2 s: the proxy enabled again after \(elapsed)")
            #expect(healthy, "the proxy is still disabled \(elapsed) after toxictl was killed")
            #expect(elapsed <= .seconds(3), "restored \(elapsed) after the kill; the grace is 2 s")
            #expect(try await Traffic.roundTrip(port: fixture.proxyPort) != nil, "no echo through the proxy")
            #expect(try await Self.allProxies(fixture) == before)
        }
    }

    /// The report as text, JSON and JUnit; a passing assertion exits 0, a failing one 1 with a FAIL line; a
    /// bad one exits 64 before any connection.
    @Test(.timeLimit(.minutes(1)))
    func reportFormatsAndAssertions() async throws {
        try await withProxy { fixture in
            let path = try Self.file(
                """
                proxies: [api_groundlight_ai]
                timeline:
                  - {name: down, duration: 200ms, outage: true}
                  - {name: up, duration: 200ms}
                """
            )
            let run = try await fixture.toxictl("scenario", "run", path)
            #expect(run.status == 0, "\(run)")
            let id = try #require(Self.startedID(run.stdout), "\(run.stdout)")

            let text = try await fixture.toxictl("scenario", "report", id)
            #expect(text.status == 0 && text.firstLine.hasPrefix("target: "), "\(text)")
            #expect(text.stdout.contains("down") && text.stdout.contains("up"), "\(text.stdout)")

            let json = try await fixture.toxictl("scenario", "report", id, "-o", "json", "--assert", "transitions == 1")
            #expect(json.status == 0, "\(json)")
            let report = try #require(json.jsonObject?["report"] as? [String: Any], "\(json.stdout)")
            #expect((report["phases"] as? [Any])?.count == 2, "\(json.stdout)")
            #expect((report["transitions"] as? [Any])?.count == 1, "\(json.stdout)")
            let assertions = json.jsonObject?["assertions"] as? [[String: Any]]
            #expect(assertions?.first?["passed"] as? Bool == true, "\(json.stdout)")

            // No traffic came after the outage: the transition never recovered.
            let failing = try await fixture.toxictl(
                "scenario",
                "report",
                id,
                "--assert",
                "transitions == 1",
                "--assert",
                "recovery < 30s"
            )
            #expect(failing.status == 1, "\(failing)")
            #expect(failing.stderr.contains("FAIL recovery < 30s"), "\(failing.stderr)")
            #expect(!failing.stderr.contains("FAIL transitions"), "\(failing.stderr)")

            let junit = try await fixture.toxictl("scenario", "report", id, "-o", "junit", "--assert", "recovery < 30s")
            #expect(junit.status == 1, "\(junit)")
            #expect(junit.stdout.contains("<testsuite"), "\(junit.stdout)")
            #expect(junit.stdout.contains("<failure"), "\(junit.stdout)")
            #expect(!junit.stdout.contains("target: "), "junit on stdout must be XML only")
        }
        try await withConnectionCounter { port, counter in
            let bad = try await Toxictl.run([
                "scenario", "report", "s1", "--assert", "recovery <", "--admin-url", "http://127.0.0.1:\(port)",
            ])
            #expect(bad.status == 64, "\(bad)")
            #expect(bad.stderr.contains("--assert 'recovery <'"), "\(bad.stderr)")
            #expect(counter.count == 0, "a connection was made before the assertion was checked")
        }
    }

    /// An invalid file exits 64 naming the file and the exact field, before any connection.
    @Test(arguments: [
        (
            "timeline: [{duration: 1s}]\nproxies: [p]\ntimeline_extra: 1\n",
            "timeline_extra"
        ),
        (
            "proxies: [p]\ntimeline:\n  - {duration: 1s}\n  - {duration: 1s, latency: {ms: -5}}\n",
            "timeline[1].latency.ms"
        ),
        ("proxies: [p]\ntimeline: [{duration: 0s}]\n", "timeline[0].duration"),
        ("proxies: [p]\nlease: {grace: 10ms}\ntimeline: [{duration: 1s}]\n", "lease.grace"),
    ])
    func anInvalidFileExits64NamingTheField(text: String, field: String) async throws {
        let path = try Self.file(text, name: "bad.yaml")
        try await withConnectionCounter { port, counter in
            let result = try await Toxictl.run([
                "scenario", "run", path, "--admin-url", "http://127.0.0.1:\(port)",
            ])
            #expect(result.status == 64, "\(result)")
            #expect(result.stderr.contains("\(path): \(field):"), "\(result.stderr)")
            #expect(counter.count == 0, "a connection was made for an invalid file")
        }
    }

    @Test
    func aMissingFileOrFollowWithDetachIsAUsageError() async throws {
        let missing = try await Toxictl.run(["scenario", "run", "/nonexistent/scenario.yaml"])
        #expect(missing.status == 64 && missing.stderr.contains("/nonexistent/scenario.yaml"), "\(missing)")
        let both = try await Toxictl.run(["scenario", "run", "x.yaml", "--follow", "--detach"])
        #expect(both.status == 64 && both.stderr.contains("--follow and --detach"), "\(both)")
    }

    /// `--for`: the impairment is in place at once, and gone by itself after about the duration, with no
    /// toxictl process left running.
    @Test(.timeLimit(.minutes(1)))
    func forRevertsByItself() async throws {
        try await withProxy { fixture in
            let before = try await fixture.rawState()
            // The scenario starts while the command runs: between these two instants.
            let start = ContinuousClock.now
            let latency = try await fixture.toxictl("latency", "enable", "150", "--for", "1s")
            let returned = ContinuousClock.now
            #expect(latency.status == 0, "\(latency)")
            #expect(latency.stdout.contains("started scenario s"), "\(latency.stdout)")
            #expect(latency.stdout.contains("reverts by itself after 1s"), "\(latency.stdout)")
            #expect(try await fixture.requireState().toxic("fixed_latency_up")?.attributes["latency"] == 150)
            let reverted = try await waitUntil(within: .seconds(4)) { try await fixture.rawState() == before }
            let revertedAt = ContinuousClock.now
            #expect(reverted, "still impaired \(revertedAt - start) after `--for 1s`")
            #expect(revertedAt - start >= .milliseconds(950), "reverted \(revertedAt - start) after the command began")
            #expect(
                revertedAt - returned <= .seconds(2),
                "reverted \(revertedAt - returned) after the command returned"
            )

            let outage = try await fixture.toxictl("outage", "enable", "--for", "500ms", "-o", "json")
            #expect(outage.status == 0, "\(outage)")
            #expect((outage.jsonObject?["scenario"] as? [String: Any])?["lease"] is NSNull, "\(outage.stdout)")
            #expect(try await fixture.requireState().enabled == false)
            #expect(try await waitUntil(within: .seconds(3)) { try await fixture.rawState() == before })

            let timeout = try await fixture.toxictl("timeout", "enable", "--timeout-ms", "0", "--for", "300ms")
            #expect(timeout.status == 0, "\(timeout)")
            #expect(try await waitUntil(within: .seconds(3)) { try await fixture.rawState() == before })
        }
    }

    @Test
    func forTakesADurationWithinTheScenarioLimits() async throws {
        for value in ["soon", "0s", "25h", "-1s"] {
            let result = try await Toxictl.run(["latency", "enable", "100", "--for", value])
            #expect(result.status == 64 && result.stderr.contains("--for"), "--for \(value): \(result)")
        }
        let names = try await Toxictl.run(["latency", "enable", "100", "--for", "1s", "--latency-toxics", "a,b"])
        #expect(names.status == 64 && names.stderr.contains("--latency-toxics"), "\(names)")
    }

    /// A server without scenarios: a scenario file and --for are refused with a clear error and change
    /// nothing; flap says once that toxictl drives it itself, and does.
    @Test(.timeLimit(.minutes(1)))
    func aServerWithoutScenarios() async throws {
        try await withProxyWithoutScenarios { fixture in
            let before = try await fixture.rawState()
            let path = try Self.file(Self.smallScenario)
            let run = try await fixture.toxictl("scenario", "run", path)
            #expect(run.status == 1, "\(run)")
            #expect(run.stderr.contains("needs swift-toxiproxy's server"), "\(run.stderr)")

            let timed = try await fixture.toxictl("latency", "enable", "100", "--for", "1s")
            #expect(timed.status == 1, "\(timed)")
            #expect(timed.stderr.contains("--for needs swift-toxiproxy's server"), "\(timed.stderr)")
            #expect(try await fixture.rawState() == before, "--for changed a server that cannot revert it")

            let list = try await fixture.toxictl("scenario", "list")
            #expect(list.status == 1 && list.stderr.contains("needs swift-toxiproxy's server"), "\(list)")

            let flap = try await fixture.toxictl(
                "flap",
                "--mode",
                "refuse",
                "--up-ms",
                "100",
                "--down-ms",
                "100",
                "--iterations",
                "2",
                within: .seconds(10)
            )
            #expect(flap.status == 0, "\(flap)")
            let note = "note: this server has no scenarios; toxictl drives the flap itself"
            #expect(flap.stdout.components(separatedBy: note).count == 2, "the note, once: \(flap.stdout)")
            #expect(flap.stdout.contains(#"POST /proxies/api_groundlight_ai {"enabled":false}"#), "\(flap.stdout)")
            #expect(flap.stdout.contains("flap completed: 2 cycle(s), 4 phase(s)"), "\(flap.stdout)")
            #expect(try await fixture.rawState() == before)
        }
    }
}
