import Foundation
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `toxictl flap`: phases on a drift-free schedule, a real outage during DOWN, and the proxy put back exactly
/// as it was on completion, on SIGINT/SIGTERM, and with the truthful exit code.
@Suite
struct ToxictlFlapTests {
    /// `<RFC3339 time>  +S.mmms  cycle C/N  PHASE  (due +S.mmms, X ms late)  <calls>`
    struct PhaseLine: Sendable {
        var wallClock: Date
        var startedMilliseconds: Int
        var cycle: Int
        var cycles: Int?
        var phase: String
        var dueMilliseconds: Int
        var lateMilliseconds: Int
        var calls: String
    }

    static func phaseLines(_ stdout: String) -> [PhaseLine] {
        let pattern =
            #/^(\S+)  \+(\d+)\.(\d{3})s  cycle (\d+)(?:\/(\d+))?  (UP|DOWN) +\(due \+(\d+)\.(\d{3})s, (-?\d+) ms late\)  (.+)$/#
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return stdout.split(separator: "\n").compactMap { line -> PhaseLine? in
            guard let match = try? pattern.wholeMatch(in: String(line)),
                let wallClock = formatter.date(from: String(match.1))
            else { return nil }
            return PhaseLine(
                wallClock: wallClock,
                startedMilliseconds: Int(match.2)! * 1000 + Int(match.3)!,
                cycle: Int(match.4)!,
                cycles: match.5.flatMap { Int($0) },
                phase: String(match.6),
                dueMilliseconds: Int(match.7)! * 1000 + Int(match.8)!,
                lateMilliseconds: Int(match.9)!,
                calls: String(match.10)
            )
        }
    }

    /// 8 cycles of 150 ms UP and 150 ms DOWN (refuse): every phase starts within 30 ms of its slot on the fixed
    /// grid (by its own report, and with no drift by the wall clock), the proxy really refuses during DOWN, and
    /// the state from before the flap is back at the end. The server runs in a process of its own, and no other
    /// test of this target starts a toxictl command meanwhile (`TimingGate`), so that what is measured is the
    /// flap, not the test machine.
    @Test(.timeLimit(.minutes(1)))
    func refuseFlapKeepsItsScheduleRefusesDuringDownAndRestores() async throws {
        try await TimingGate.shared.withExclusive {
            try await self.refuseFlapKeepsItsSchedule()
        }
    }

    private func refuseFlapKeepsItsSchedule() async throws {
        try await withServedProxy { fixture in
            try await fixture.succeed("latency", "enable", "20")
            try await fixture.addForeignToxic(#"{"name":"their_noop","type":"noop"}"#)
            let before = try await fixture.rawState()
            let statusBefore = try await fixture.statusJSON()

            let process = try await fixture.start(
                "flap",
                "--mode",
                "refuse",
                "--up-ms",
                "150",
                "--down-ms",
                "150",
                "--iterations",
                "8"
            )
            defer { process.cleanUp() }
            var disabledSeen = 0
            var refusalsConfirmed = 0
            var acceptedWhileDisabled = 0
            let deadline = ContinuousClock.now + .seconds(8)
            while process.isRunning && ContinuousClock.now < deadline {
                if try await fixture.requireState().enabled == false {
                    disabledSeen += 1
                    let refused = await Traffic.refuses(port: fixture.proxyPort)
                    // Counted only when the proxy was disabled on both sides of the attempt.
                    if try await fixture.requireState().enabled == false {
                        if refused { refusalsConfirmed += 1 } else { acceptedWhileDisabled += 1 }
                    }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await process.waitForExit(within: .seconds(2)), "the flap did not end: \(process.stdout)")
            let result = process.completed
            #expect(result.status == 0 && result.exitedNormally, "\(result)")

            let phases = Self.phaseLines(result.stdout)
            #expect(phases.count == 16, "\(result.stdout)")
            for (index, phase) in phases.enumerated() {
                #expect(phase.cycle == index / 2 + 1)
                #expect(phase.cycles == 8)
                #expect(phase.phase == (index.isMultiple(of: 2) ? "UP" : "DOWN"))
                #expect(phase.dueMilliseconds == index * 150, "phase \(index) due at \(phase.dueMilliseconds) ms")
                let late = phase.startedMilliseconds - phase.dueMilliseconds
                #expect(abs(late) <= 30, "phase \(index) started \(late) ms off its schedule")
                #expect(phase.lateMilliseconds == late)
                // Our server runs the flap as a scenario: it makes the calls, toxictl reports the phases.
                if phase.phase == "DOWN" {
                    #expect(phase.calls == "proxy disabled (by the server)")
                } else if index > 0 {
                    #expect(phase.calls == "healthy again (by the server)")
                } else {
                    #expect(phase.calls == "no change")
                }
            }
            // The wall clock of the lines (each printed once its phase's calls are done) agrees: the 14 periods
            // from the first DOWN to the last one took 14 × 150 ms, not more (no drift).
            if phases.count == 16 {
                let span = phases[15].wallClock.timeIntervalSince(phases[1].wallClock) * 1000
                #expect(abs(span - 2100) <= 30, "first to last DOWN took \(span) ms by the wall clock")
            }
            let completed = result.lines.first { $0.hasPrefix("flap completed: 8 cycle(s), 16 phase(s) in ") }
            let elapsed = completed.flatMap { line in
                line.split(separator: " ").first { $0.hasSuffix("s;") }.flatMap { Double($0.dropLast(2)) }
            }
            let total = try #require(elapsed, "no completion line: \(result.stdout)")
            #expect(abs(total * 1000 - 2400) <= 30, "the last DOWN ends at +\(total) s, due +2.400 s")
            #expect(result.stdout.contains("restored the state from before the flap"), "\(result)")

            #expect(disabledSeen > 0, "the proxy was never seen disabled during the flap")
            #expect(refusalsConfirmed > 0, "no connection was refused while the proxy was disabled")
            #expect(acceptedWhileDisabled == 0, "connections accepted while the server said disabled")
            let after = try await fixture.rawState()
            #expect(after == before)
            let statusAfter = try await fixture.statusJSON()
            #expect(statusAfter == statusBefore)
        }
    }

    /// Timeout mode puts timeout toxics in place for DOWN, and the end of the flap brings back the timeout
    /// toxic the operator had before (attributes and all), and nothing else.
    @Test
    func timeoutFlapAddsTimeoutsDuringDownAndRestoresThePreviousOnes() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "12345", "--timeout-stream", "up")
            let before = try await fixture.rawState()
            let process = try await fixture.start(
                "flap",
                "--mode",
                "timeout",
                "--timeout-ms",
                "0",
                "--up-ms",
                "100",
                "--down-ms",
                "200",
                "--iterations",
                "2"
            )
            defer { process.cleanUp() }
            var downSeen = false
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline {
                let state = try await fixture.requireState()
                if state.toxic("timeout_down")?.attributes == ["timeout": 0] {
                    downSeen = true
                    #expect(state.enabled, "timeout mode must not disable the proxy")
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(try await process.waitForExit(within: .seconds(2)))
            let result = process.completed
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("connections hang forever"), "timeout 0 must read as forever: \(result)")
            #expect(Self.phaseLines(result.stdout).count == 4, "\(result.stdout)")
            #expect(downSeen, "the timeout toxics were never seen during DOWN")
            let after = try await fixture.rawState()
            #expect(after == before)
        }
    }

    struct SignalCase: Sendable, CustomTestStringConvertible {
        var signal: Int32
        var name: String
        var mode: String
        /// The phase during which the signal is sent.
        var phase: String
        var testDescription: String { "\(self.name) during \(self.phase) (\(self.mode))" }
    }

    static let signalCases: [SignalCase] = [
        SignalCase(signal: SIGTERM, name: "SIGTERM", mode: "timeout", phase: "DOWN"),
        SignalCase(signal: SIGTERM, name: "SIGTERM", mode: "refuse", phase: "DOWN"),
        SignalCase(signal: SIGINT, name: "SIGINT", mode: "timeout", phase: "DOWN"),
        SignalCase(signal: SIGTERM, name: "SIGTERM", mode: "refuse", phase: "UP"),
    ]

    /// A signal mid-phase stops the flap within a few seconds with 128+N, and leaves the proxy's toxics and
    /// enabled flag exactly as before the flap.
    @Test(arguments: Self.signalCases)
    func aSignalMidPhaseRestoresTheProxyAndExits128PlusN(_ signalCase: SignalCase) async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "30", "--direction", "both")
            try await fixture.addForeignToxic(#"{"name":"their_noop","type":"noop","stream":"upstream"}"#)
            let before = try await fixture.rawState()
            let statusBefore = try await fixture.statusJSON()

            let upMilliseconds = signalCase.phase == "DOWN" ? "100" : "5000"
            let process = try await fixture.start(
                "flap",
                "--mode",
                signalCase.mode,
                "--up-ms",
                upMilliseconds,
                "--down-ms",
                "5000"
            )
            defer { process.cleanUp() }
            let marker = "cycle 1  \(signalCase.phase)"
            let output = try await process.waitForStdout(within: .seconds(5)) { $0.contains(marker) }
            try #require(output != nil, "no \(signalCase.phase) line: \(process.stdout) \(process.stderr)")

            let during = try await fixture.requireState()
            if signalCase.phase == "DOWN" {
                if signalCase.mode == "refuse" {
                    #expect(during.enabled == false, "\(during)")
                    #expect(await Traffic.refuses(port: fixture.proxyPort))
                } else {
                    #expect(during.toxic("timeout_down")?.attributes == ["timeout": 30000], "\(during)")
                    #expect(during.toxic("timeout_up")?.attributes == ["timeout": 30000], "\(during)")
                }
            }

            let signalled = ContinuousClock.now
            process.send(signal: signalCase.signal)
            #expect(try await process.waitForExit(within: .seconds(3)), "no exit within 3 s: \(process.stdout)")
            #expect(ContinuousClock.now - signalled < .seconds(3))
            let result = process.completed
            #expect(result.exitedNormally, "killed by the signal instead of handling it: \(result)")
            #expect(result.status == 128 + signalCase.signal, "\(result)")
            #expect(
                result.stdout.contains("flap stopped by \(signalCase.name) during \(signalCase.phase) of cycle 1"),
                "\(result)"
            )
            let after = try await fixture.rawState()
            #expect(after == before)
            let statusAfter = try await fixture.statusJSON()
            #expect(statusAfter == statusBefore)
        }
    }

    /// Toxics apply in chain order, so "exactly as before" includes where a toxic sits in it: a timeout toxic
    /// of ours that existed before the flap must be back in its place, not moved after toxics added later.
    @Test
    func aTimeoutToxicFromBeforeTheFlapIsRestoredInItsPlace() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("timeout", "enable", "--timeout-ms", "12345", "--timeout-stream", "up")
            try await fixture.addForeignToxic(#"{"name":"their_noop","type":"noop","stream":"upstream"}"#)
            let before = try await fixture.rawState()
            let statusBefore = try await fixture.statusJSON()
            let result = try await fixture.toxictl(
                "flap",
                "--mode",
                "timeout",
                "--up-ms",
                "50",
                "--down-ms",
                "100",
                "--iterations",
                "1"
            )
            #expect(result.status == 0, "\(result)")
            let after = try await fixture.rawState()
            #expect(after == before)
            let statusAfter = try await fixture.statusJSON()
            #expect(statusAfter == statusBefore)
        }
    }

    /// Without scenarios on the server, toxictl drives the flap itself: a failed call ends it with 1, and a
    /// failed restore afterwards does not hide the first error.
    @Test
    func aFailureMidFlapExits1AndKeepsTheFirstError() async throws {
        try await withProxyWithoutScenarios { fixture in
            let process = try await fixture.start(
                "flap",
                "--mode",
                "refuse",
                "--up-ms",
                "100",
                "--down-ms",
                "100",
                "--iterations",
                "50"
            )
            defer { process.cleanUp() }
            let output = try await process.waitForStdout(within: .seconds(5)) { $0.contains("cycle 1/50  DOWN") }
            try #require(output != nil, "\(process.stdout) \(process.stderr)")
            let deleted = try await fixture.admin.delete("/proxies/\(fixture.proxy)")
            try #require(deleted.status == 204, "\(deleted)")
            #expect(try await process.waitForExit(within: .seconds(3)), "\(process.stdout)")
            let result = process.completed
            #expect(result.status == 1 && result.exitedNormally, "\(result)")
            #expect(result.stderr.contains("error: the flap failed"), "\(result)")
            #expect(result.stderr.contains(#"proxy "\#(fixture.proxy)" does not exist"#), "\(result)")
            #expect(result.stderr.contains("restoring the state from before the flap failed"), "\(result)")
            #expect(result.stderr.contains("the first error"), "\(result)")
            #expect(!result.stdout.contains("flap completed"), "\(result)")
        }
    }

    /// On our server the flap is a scenario: the proxy deleted mid-flap ends it `failed`, and toxictl exits 1
    /// saying so, without claiming completion.
    @Test
    func aProxyDeletedMidFlapOnTheServerExits1() async throws {
        try await withProxy { fixture in
            let process = try await fixture.start(
                "flap",
                "--mode",
                "refuse",
                "--up-ms",
                "100",
                "--down-ms",
                "100",
                "--iterations",
                "50"
            )
            defer { process.cleanUp() }
            let output = try await process.waitForStdout(within: .seconds(5)) { $0.contains("cycle 1/50  DOWN") }
            try #require(output != nil, "\(process.stdout) \(process.stderr)")
            let deleted = try await fixture.admin.delete("/proxies/\(fixture.proxy)")
            try #require(deleted.status == 204, "\(deleted)")
            #expect(try await process.waitForExit(within: .seconds(5)), "\(process.stdout) \(process.stderr)")
            let result = process.completed
            #expect(result.status == 1 && result.exitedNormally, "\(result)")
            #expect(result.stderr.contains("error: the flap (scenario s1) ended: failed"), "\(result)")
            #expect(!result.stdout.contains("flap completed"), "\(result)")
        }
    }

    /// The fallback keeps the old behaviour: toxictl's own calls, on the grid, and the restore.
    @Test
    func withoutScenariosToxictlDrivesTheFlapItself() async throws {
        try await withProxyWithoutScenarios { fixture in
            let before = try await fixture.rawState()
            let result = try await fixture.toxictl(
                "flap",
                "--mode",
                "refuse",
                "--up-ms",
                "100",
                "--down-ms",
                "100",
                "--iterations",
                "2"
            )
            #expect(result.status == 0, "\(result)")
            let phases = Self.phaseLines(result.stdout)
            #expect(phases.map(\.phase) == ["UP", "DOWN", "UP", "DOWN"], "\(result.stdout)")
            #expect(phases.dropFirst().first?.calls == #"POST /proxies/\#(fixture.proxy) {"enabled":false}"#)
            #expect(result.stdout.contains("restored the state from before the flap: "), "\(result.stdout)")
            #expect(try await fixture.rawState() == before)
        }
    }
}
