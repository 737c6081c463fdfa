import Testing

@testable import Scenarios

@Suite("Report assertions")
struct ReportAssertionTests {
    /// Eight phases over two outages and two slow phases; three impaired → healthy transitions, the middle one
    /// never recovered. Sums: accepted 21, closed 21, bytes up 255, bytes down 375, cut 4, dial failures 3.
    static let report: RecoveryReport = {
        func phase(
            _ index: Int,
            _ name: String,
            _ kind: String,
            _ counts: [Int64],
            _ rate: Double? = nil
        ) -> RecoveryReport.Phase {
            RecoveryReport.Phase(
                index: index,
                name: name,
                impaired: kind != "healthy",
                outage: kind == "outage",
                startedMs: Double(index) * 1000 + 0.25,
                endedMs: Double(index + 1) * 1000 + 0.25,
                counts: ActivityCounts(
                    accepted: counts[0],
                    closed: counts[1],
                    bytesUp: counts[2],
                    bytesDown: counts[3],
                    cut: counts[4],
                    dialFailures: counts[5]
                ),
                attemptsPerSecond: rate
            )
        }
        return RecoveryReport(
            id: "s4",
            name: "flap & slow",
            proxies: ["api", "db"],
            state: .ended,
            endReason: .completed,
            phases: [
                phase(0, "warm-up", "healthy", [5, 5, 100, 200, 0, 0]),
                phase(1, "down #1", "outage", [0, 2, 0, 0, 2, 0]),
                phase(2, "up #1", "healthy", [4, 3, 50, 80, 0, 1]),
                phase(3, "slow", "impaired", [6, 6, 60, 60, 1, 2], 3),
                phase(4, "down #2", "outage", [0, 1, 0, 0, 1, 0]),
                phase(5, "up #2", "healthy", [2, 0, 10, 0, 0, 0]),
                phase(6, "lossy", "impaired", [3, 3, 30, 30, 0, 0], 1.5),
                phase(7, "up #3", "healthy", [1, 1, 5, 5, 0, 0]),
            ],
            transitions: [
                .init(fromPhase: 1, toPhase: 2, atMs: 2000.25, firstConnectionMs: 120.4, recoveryMs: 121),
                .init(fromPhase: 4, toPhase: 5, atMs: 5000.25, firstConnectionMs: 30, recoveryMs: nil),
                .init(fromPhase: 6, toPhase: 7, atMs: 7000.25, firstConnectionMs: 2.5, recoveryMs: 450),
            ],
            kept: [KeptChange(proxy: "db", item: "toxic fixed_latency_up", detail: "changed by someone else")]
        )
    }()

    static func check(_ text: String) throws -> ReportAssertion.Result {
        try ReportAssertion.parse(text).evaluate(Self.report)
    }

    @Test(arguments: [
        // Per transition, bare = max; an unrecovered transition is infinitely long.
        ("recovery < 30s", false, "max(recovery) = ∞, not < 30000 ms (transition 5 → 6 did not recover)"),
        ("recovery > 1h", true, "max(recovery) = ∞ > 3600000 ms (transition 5 → 6 did not recover)"),
        ("min(recovery) <= 121ms", true, "min(recovery) = 121 ms <= 121 ms (transition 2 → 3)"),
        ("min(recovery) < 121", false, "min(recovery) = 121 ms, not < 121 ms (transition 2 → 3)"),
        ("mean(recovery) > 0", true, "mean(recovery) = ∞ > 0 ms"),
        ("sum(recovery) != 0", true, "sum(recovery) = ∞ != 0 ms"),
        ("count(recovery) == 3", true, "count(recovery) = 3 == 3"),
        ("first_connection <= 2s", true, "max(first_connection) = 120.4 ms <= 2000 ms (transition 2 → 3)"),
        ("min(first_connection) > 2.5ms", false, "min(first_connection) = 2.5 ms, not > 2.5 ms (transition 7 → 8)"),
        ("mean(first_connection) >= 50.966", true, "mean(first_connection) = 50.967 ms >= 50.966 ms"),
        ("sum(first_connection) < 153", true, "sum(first_connection) = 152.9 ms < 153 ms"),
        ("count(first_connection) != 3", false, "count(first_connection) = 3, not != 3"),
        // Per phase, bare = sum.
        ("accepted == 21", true, "sum(accepted) = 21 == 21"),
        ("closed != 21", false, "sum(closed) = 21, not != 21"),
        ("bytes_up >= 255", true, "sum(bytes_up) = 255 >= 255"),
        ("bytes_down > 375", false, "sum(bytes_down) = 375, not > 375"),
        ("cut == 4", true, "sum(cut) = 4 == 4"),
        ("dial_failures == 0", false, "sum(dial_failures) = 3, not == 0"),
        ("max(accepted) == 6", true, "max(accepted) = 6 == 6 (phase 4 (slow))"),
        ("min(closed) < 1", true, "min(closed) = 0 < 1 (phase 6 (up #2))"),
        ("min(accepted) > 0", false, "min(accepted) = 0, not > 0 (phase 2 (down #1))"),
        ("mean(accepted) == 2.625", true, "mean(accepted) = 2.625 == 2.625"),
        ("count(bytes_down) == 8", true, "count(bytes_down) = 8 == 8"),
        ("max(dial_failures) <= 1", false, "max(dial_failures) = 2, not <= 1 (phase 4 (slow))"),
        // Per impaired phase with a visible rate (not outages), bare = max.
        ("attempts_per_second < 2", false, "max(attempts_per_second) = 3/s, not < 2/s (phase 4 (slow))"),
        ("min(attempts_per_second) == 1.5", true, "min(attempts_per_second) = 1.5/s == 1.5/s (phase 7 (lossy))"),
        ("mean(attempts_per_second) == 2.25", true, "mean(attempts_per_second) = 2.25/s == 2.25/s"),
        ("sum(attempts_per_second) > 4.5", false, "sum(attempts_per_second) = 4.5/s, not > 4.5/s"),
        ("count(attempts_per_second) == 2", true, "count(attempts_per_second) = 2 == 2"),
        // Single numbers.
        ("unrecovered == 0", false, "unrecovered = 1, not == 0"),
        ("transitions == 3", true, "transitions = 3 == 3"),
        ("transitions>=-1", true, "transitions = 3 >= -1"),
    ])
    func figures(_ text: String, _ passes: Bool, _ detail: String) throws {
        let result = try Self.check(text)
        #expect(result.passed == passes, "\(text)")
        #expect(result.detail == detail)
        #expect(result.assertion.text == text)
        #expect(result.assertion.description == text)
    }

    @Test(arguments: [
        ("first_connection < 120.5", true), ("first_connection < 120.4", false), ("first_connection < 0.5s", true),
        ("first_connection < .1s", false), ("first_connection < 1m", true), ("first_connection < 1h", true),
        ("first_connection < 1m30s", true), ("first_connection < 500000us", true),
        ("first_connection < 500000µs", true), ("first_connection < 120400000ns", false),
        ("first_connection <= 120400000ns", true), ("first_connection < 0.0001h", true),
        ("first_connection < 0.00003h", false),
        ("first_connection <= 120ms400us", true), ("first_connection < 120ms399us", false),
    ])
    func durationUnits(_ text: String, _ passes: Bool) throws {
        #expect(try Self.check(text).passed == passes, "\(text)")
    }

    @Test(arguments: ["<", "<=", ">", ">=", "==", "!="])
    func everyOperator(_ op: String) throws {
        // Below, equal to and above the measured 21.
        let expected: [Bool] =
            switch op {
            case "<": [false, false, true]
            case "<=": [false, true, true]
            case ">": [true, false, false]
            case ">=": [true, true, false]
            case "==": [false, true, false]
            default: [true, false, true]
            }
        for (bound, passes) in zip([20, 21, 22], expected) {
            #expect(try Self.check("accepted \(op) \(bound)").passed == passes, "accepted \(op) \(bound)")
        }
    }

    @Test func conjunctionsNeedEveryPart() throws {
        let failing = try Self.check("max(first_connection) <= 2s and unrecovered == 0")
        #expect(!failing.passed)
        #expect(
            failing.detail
                == "max(first_connection) = 120.4 ms <= 2000 ms (transition 2 → 3); unrecovered = 1, not == 0"
        )
        let passing = try Self.check("first_connection<1s&&transitions == 3 and cut==4")
        #expect(passing.passed)
        #expect(
            passing.detail
                == "max(first_connection) = 120.4 ms < 1000 ms (transition 2 → 3); transitions = 3 == 3; sum(cut) = 4 == 4"
        )
        #expect(!(try Self.check("cut == 4 && cut == 5")).passed)
        #expect(!(try Self.check("cut == 5 and cut == 4")).passed)
    }

    @Test func unrecoveredTransitionFailsAnyRecoveryBound() throws {
        var report = Self.report
        let assertion = try ReportAssertion.parse("recovery < 1000h")
        #expect(!assertion.evaluate(report).passed)
        report.transitions[1].recoveryMs = 99
        #expect(assertion.evaluate(report).passed)
        #expect(assertion.evaluate(report).detail == "max(recovery) = 450 ms < 3600000000 ms (transition 7 → 8)")
    }

    @Test func figuresWithoutValues() throws {
        let empty = RecoveryReport(
            id: "s9",
            name: nil,
            proxies: ["p"],
            state: .running,
            endReason: nil,
            phases: [],
            transitions: [],
            kept: []
        )
        func check(_ text: String) throws -> ReportAssertion.Result {
            try ReportAssertion.parse(text).evaluate(empty)
        }
        // An extreme or a mean of nothing is no evidence: it fails rather than passes vacuously.
        #expect(try check("recovery < 30s").detail == "max(recovery) has no value: the report has no transitions")
        #expect(!(try check("recovery < 30s")).passed)
        #expect(!(try check("mean(accepted) == 0")).passed)
        #expect(
            try check("attempts_per_second >= 0").detail
                == "max(attempts_per_second) has no value: the report has no impaired phases with a visible rate"
        )
        #expect(try check("count(recovery) == 0").passed)
        #expect(try check("accepted == 0").passed)
        #expect(try check("unrecovered == 0 and transitions == 0").passed)
    }

    @Test(arguments: [
        (
            "", 1,
            "expected a figure (recovery, first_connection, accepted, closed, bytes_up, bytes_down, cut, "
                + "dial_failures, attempts_per_second, unrecovered, transitions), got the end"
        ),
        ("   ", 4, "expected a figure"),
        ("recovry < 3", 1, "unknown figure \"recovry\"; expected one of recovery,"),
        ("Recovery < 3", 1, "unknown figure \"Recovery\""),
        ("30s > recovery", 1, "expected a figure (recovery,"),
        ("recovery", 9, "expected an operator (<, <=, >, >=, ==, !=), got the end"),
        ("recovery = 3", 10, "expected an operator (<, <=, >, >=, ==, !=), got \"=\""),
        ("recovery =< 3", 10, "expected an operator (<, <=, >, >=, ==, !=), got \"=<\""),
        ("recovery 3", 10, "expected an operator (<, <=, >, >=, ==, !=), got \"3\""),
        ("recovery < ", 12, "expected a duration (250ms, 30s) or a number of ms after the operator, got the end"),
        ("recovery < abc", 12, "expected a duration (250ms, 30s) or a number of ms after the operator, got \"abc\""),
        ("accepted < x", 12, "expected a number after the operator, got \"x\""),
        ("accepted < 30s", 12, "sum(accepted) is a count, not a duration: write a plain number, got \"30s\""),
        ("count(recovery) < 1s", 19, "count(recovery) counts values, not a duration"),
        ("unrecovered < 1s", 15, "unrecovered is a count, not a duration"),
        ("attempts_per_second > 1s", 23, "max(attempts_per_second) is a rate, not a duration"),
        ("recovery < 30sec", 12, "unknown unit \"sec\" (ns, us, ms, s, m, h) in \"30sec\""),
        ("recovery < 1m30", 12, "missing unit after 30 (ns, us, ms, s, m, h) in \"1m30\""),
        ("recovery < 1..5s", 12, "expected a number before a unit in \"1..5s\""),
        ("accepted < 1.2.3", 12, "expected a number, got \"1.2.3\""),
        ("recovery < -5s", 12, "expected a number, got \"-5s\""),
        ("max(unrecovered) == 0", 5, "unrecovered is a single number for the whole report; write it without max(...)"),
        ("count(transitions) == 0", 7, "transitions is a single number"),
        ("max recovery < 1", 5, "expected \"(\" after max, got \"recovery\""),
        ("max(recovery < 1", 14, "expected \")\" after max(recovery, got \"<\""),
        ("max(bogus) < 1", 5, "expected a figure (recovery,"),
        ("max() < 1", 5, "expected a figure (recovery,"),
        ("recovery < 1s or cut == 0", 15, "expected \"and\", \"&&\" or the end, got \"or\""),
        ("recovery < 1s and", 18, "expected a figure"),
        ("recovery < 1s & cut == 0", 15, "expected \"and\", \"&&\" or the end, got \"&\""),
        ("recovery < 3 )", 14, "expected \"and\", \"&&\" or the end, got \")\""),
        ("recovery < 3 4", 14, "expected \"and\", \"&&\" or the end, got \"4\""),
        ("cut == 0 and and", 14, "unknown figure \"and\""),
    ])
    func parseErrorsPointAtTheColumn(_ text: String, _ column: Int, _ reason: String) {
        do {
            _ = try ReportAssertion.parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.code == .invalidAssertion)
            #expect(error.field == "assert")
            #expect(error.reason.hasPrefix("column \(column): \(reason)"), "\(text): \(error.reason)")
        }
    }

    @Test func parsingIsDeterministicAndKeepsTheText() throws {
        let text = "  max( recovery )<=250ms  &&  dial_failures==0 "
        let assertion = try ReportAssertion.parse(text)
        #expect(assertion == (try ReportAssertion.parse(text)))
        #expect(assertion != (try ReportAssertion.parse("max(recovery) <= 251ms && dial_failures == 0")))
        #expect(assertion.text == text)
        #expect(assertion.comparisons.count == 2)
        #expect(assertion.comparisons[0].bound == 250)
        #expect(assertion.comparisons[0].figure == .init(name: .recovery, aggregate: .max))
    }
}
