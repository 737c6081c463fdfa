import Testing
import ToxiproxyModel

@testable import Scenarios

@Suite("Scenario wire format")
struct ScenarioWireTests {
    static let fullStatus = ScenarioStatus(
        id: "s1",
        name: "api-flap",
        proxies: ["api_groundlight_ai"],
        state: .running,
        endReason: nil,
        startedAt: "2026-12-05T18:00:00Z",
        elapsedMs: 1234.5,
        boundMs: 600_000,
        leaseGraceMs: 30_000,
        leaseExpiresInMs: 28_000.1,
        currentPhase: .init(index: 3, name: "down #2", startedMs: 450.2, impaired: true, outage: true),
        nextDueMs: 600,
        phaseCount: 40,
        history: [
            .init(index: 0, name: "up #1", dueMs: 0, startedMs: 0.4, endedMs: 150.3, impaired: false, outage: false)
        ],
        kept: [
            KeptChange(
                proxy: "p",
                item: "toxic fixed_latency_up",
                detail: "changed by someone else during the scenario; left as it is"
            )
        ],
        restoreErrors: []
    )

    static let bareStatus = ScenarioStatus(
        id: "s7",
        name: nil,
        proxies: [],
        state: .ended,
        endReason: .leaseExpired,
        startedAt: "2026-12-05T18:00:00Z",
        elapsedMs: 0,
        boundMs: 1,
        leaseGraceMs: nil,
        leaseExpiresInMs: nil,
        currentPhase: nil,
        nextDueMs: nil,
        phaseCount: nil,
        history: [],
        kept: [],
        restoreErrors: ["p: toxic x: connection refused", ""]
    )

    static func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parseFirstValue(Array(text.utf8))
    }

    // MARK: Status

    @Test func statusHasTheDocumentedKeysInOrder() {
        #expect(
            Self.fullStatus.jsonValue.text
                == #"{"id":"s1","name":"api-flap","proxies":["api_groundlight_ai"],"state":"running","#
                + #""end_reason":null,"started_at":"2026-12-05T18:00:00Z","elapsed_ms":1234.5,"bound_ms":600000,"#
                + #""lease":{"grace_ms":30000,"expires_in_ms":28000.1},"#
                + #""current_phase":{"index":3,"name":"down #2","started_ms":450.2,"impaired":true,"outage":true},"#
                + #""next_due_ms":600,"phase_count":40,"#
                + #""history":[{"index":0,"name":"up #1","due_ms":0,"started_ms":0.4,"ended_ms":150.3,"#
                + #""lateness_ms":0.4,"impaired":false,"outage":false}],"#
                + #""kept":[{"proxy":"p","item":"toxic fixed_latency_up","#
                + #""detail":"changed by someone else during the scenario; left as it is"}],"restore_errors":[]}"#
        )
    }

    @Test func statusWithoutOptionalsWritesNulls() {
        let text = Self.bareStatus.jsonValue.text
        #expect(text.contains(#""name":null"#))
        #expect(text.contains(#""end_reason":"lease_expired""#))
        #expect(text.contains(#""lease":null"#))
        #expect(text.contains(#""current_phase":null,"next_due_ms":null,"phase_count":null"#))
        #expect(text.contains(#""history":[],"kept":[]"#))
        var ended = Self.fullStatus
        ended.leaseExpiresInMs = nil
        #expect(ended.jsonValue.text.contains(#""lease":{"grace_ms":30000,"expires_in_ms":null}"#))
    }

    @Test(arguments: [fullStatus, bareStatus, fullStatus.listed])
    func statusRoundTrips(_ status: ScenarioStatus) throws {
        #expect(try ScenarioStatus(json: status.jsonValue) == status)
        #expect(try ScenarioStatus(json: Self.parse(status.jsonValue.text)) == status)
    }

    @Test func statusRoundTripsEveryEndReason() throws {
        for reason in EndReason.allCases {
            var status = Self.bareStatus
            status.endReason = reason
            #expect(try ScenarioStatus(json: status.jsonValue) == status)
        }
    }

    @Test func statusFromTheDocumentedExample() throws {
        let json = try Self.parse(
            """
            {"id": "s1", "name": "api-flap", "proxies": ["api_groundlight_ai"], "state": "running",
             "end_reason": null, "started_at": "2026-12-05T18:00:00Z", "elapsed_ms": 1234.5, "bound_ms": 600000,
             "lease": {"grace_ms": 30000, "expires_in_ms": 28000.1},
             "current_phase": {"index": 3, "name": "down #2", "started_ms": 450.2, "impaired": true, "outage": true},
             "next_due_ms": 600, "phase_count": 40,
             "history": [{"index": 0, "name": "up #1", "due_ms": 0, "started_ms": 0.4, "ended_ms": 150.3,
                          "lateness_ms": 0.4, "impaired": false, "outage": false}],
             "kept": [{"proxy": "p", "item": "toxic fixed_latency_up", "detail": "changed by someone else during the scenario; left as it is"}],
             "restore_errors": []}
            """
        )
        #expect(try ScenarioStatus(json: json) == Self.fullStatus)
    }

    @Test func decodingIgnoresKeyOrderAndUnknownKeys() throws {
        let json = try Self.parse(
            """
            {"future": {"nested": [1, 2]}, "restore_errors": [], "proxies": ["p"], "bound_ms": 1e3,
             "elapsed_ms": 5, "started_at": "t", "state": "ended", "id": "s2", "end_reason": "stopped",
             "lease": {"expires_in_ms": null, "extra": true, "grace_ms": 1000},
             "current_phase": {"outage": false, "impaired": false, "started_ms": 1, "name": "n", "index": 0, "x": 1}}
            """
        )
        let status = try ScenarioStatus(json: json)
        #expect(status.id == "s2")
        #expect(status.boundMs == 1000)
        #expect(status.endReason == .stopped)
        #expect(status.leaseGraceMs == 1000)
        #expect(status.leaseExpiresInMs == nil)
        #expect(status.currentPhase?.name == "n")
        // Lists that are missing read as empty; so does a missing name.
        #expect(status.history.isEmpty && status.kept.isEmpty && status.name == nil)
    }

    @Test(arguments: [
        (#""elapsed_ms":"12""#, "elapsed_ms", "must be a number, got string"),
        (#""state":"paused""#, "state", #"must be one of running, ended, got "paused""#),
        (#""end_reason":"bored""#, "end_reason", "must be one of completed, bound_reached, stopped"),
        (#""proxies":"p""#, "proxies", "must be a list, got string"),
        (#""proxies":["p",3]"#, "proxies[1]", "must be a string, got number"),
        (#""phase_count":2.5"#, "phase_count", "must be a whole number, got 2.5"),
        (#""lease":{"grace_ms":true}"#, "lease.grace_ms", "must be a number, got bool"),
        (#""lease":[]"#, "lease", "must be an object, got array"),
        (
            #""history":[{"index":0,"name":"a","due_ms":0,"started_ms":0,"impaired":false,"outage":false},"#
                + #"{"index":1,"name":"b","due_ms":0,"started_ms":"0","impaired":false,"outage":false}]"#,
            "history[1].started_ms", "must be a number, got string"
        ),
        (#""kept":[{"proxy":"p","item":"i"}]"#, "kept[0].detail", "missing"),
        (
            #""current_phase":{"index":0,"name":"a","started_ms":0,"impaired":1,"outage":false}"#,
            "current_phase.impaired", "must be true or false, got number"
        ),
    ])
    func decodingErrorsNameTheKeyPath(_ member: String, _ field: String, _ reason: String) throws {
        // The member comes last, so it overrides the valid one of the same name.
        let base = Self.bareStatus.jsonValue.text.dropLast()
        let json = try Self.parse(base + "," + member + "}")
        #expect {
            _ = try ScenarioStatus(json: json)
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.code == .invalidField && error.field == field && error.reason.hasPrefix(reason)
        }
    }

    @Test func missingRequiredKeyAndNonObject() throws {
        #expect(throws: ScenarioError.invalid("started_at", "missing")) {
            try ScenarioStatus(json: Self.parse(#"{"id":"s1","proxies":[],"state":"running"}"#))
        }
        #expect(throws: ScenarioError.invalid("", "must be an object, got array")) {
            try ScenarioStatus(json: .array([]))
        }
    }

    // MARK: Numbers and the compact writer

    @Test(arguments: [
        (1234.5, "1234.5"), (600_000, "600000"), (0, "0"), (-0.0, "0"), (0.0004, "0"), (0.0005, "0.001"),
        (-0.25, "-0.25"), (1.23456, "1.235"), (28000.1, "28000.1"), (0.05, "0.05"), (1e-9, "0"),
        (86_400_000.001, "86400000.001"), (Double.nan, "0"), (Double.infinity, "0"),
    ])
    func millisecondsKeepAtMostThreeDecimals(_ value: Double, _ text: String) {
        #expect(value.wireDecimalText == text)
        #expect(JSONValue.milliseconds(value) == .number(text))
    }

    @Test func compactTextEscapesPerRFC8259() throws {
        let value = JSONValue.object(
            JSONObject([
                ("q\"b\\", .string("line\nnext\ttab\r\u{08}\u{0C}\u{01}\u{1F}")),
                ("kept", .string("<&> é 🙂 \u{2028}")),
                ("n", .array([.number("1e3"), .number("-0.5"), .null, .bool(true), .bool(false)])),
                ("empty", .object(JSONObject())),
                ("dup", .number("1")),
                ("dup", .number("2")),
            ])
        )
        let text = value.text
        #expect(
            text
                == #"{"q\"b\\":"line\nnext\ttab\r\b\f\u0001\u001f","kept":"<&> é 🙂 \#u{2028}","#
                + #""n":[1e3,-0.5,null,true,false],"empty":{},"dup":1,"dup":2}"#
        )
        #expect(try Self.parse(text) == value)
    }

    @Test func compactTextRoundTripsEveryControlCharacter() throws {
        let all = String(String.UnicodeScalarView((0..<0x80).compactMap(Unicode.Scalar.init)))
        let text = JSONValue.string(all).text
        #expect(!text.utf8.dropFirst().dropLast().contains { $0 < 0x20 })
        #expect(try Self.parse(text) == .string(all))
    }

    // MARK: Events

    static let events: [ScenarioEvent] = [
        ScenarioEvent(id: 1, kind: .started, atMs: 0),
        ScenarioEvent(
            id: 2,
            kind: .phase,
            atMs: 150.3,
            phase: .init(index: 1, name: "down #1", startedMs: 150.3, impaired: true, outage: true),
            latenessMs: 0.3,
            skipped: 0
        ),
        ScenarioEvent(id: 3, kind: .error, atMs: 300, message: "p: toxic latency_up: \"bad\"\nsecond line"),
        ScenarioEvent(
            id: 4,
            kind: .ended,
            atMs: 450.125,
            endReason: .stopped,
            kept: [KeptChange(proxy: "p", item: "enabled", detail: "changed by someone else")]
        ),
    ]

    @Test func eventHasTheDocumentedKeys() {
        #expect(
            Self.events[1].jsonValue.text
                == #"{"id":2,"kind":"phase","at_ms":150.3,"#
                + #""phase":{"index":1,"name":"down #1","started_ms":150.3,"impaired":true,"outage":true},"#
                + #""lateness_ms":0.3,"skipped":0,"end_reason":null,"kept":[],"message":null}"#
        )
        #expect(
            Self.events[0].jsonValue.text
                == #"{"id":1,"kind":"started","at_ms":0,"phase":null,"lateness_ms":null,"skipped":null,"#
                + #""end_reason":null,"kept":[],"message":null}"#
        )
    }

    @Test(arguments: events)
    func eventRoundTrips(_ event: ScenarioEvent) throws {
        #expect(try ScenarioEvent(json: event.jsonValue) == event)
        #expect(try ScenarioEvent(json: Self.parse(event.jsonValue.text)) == event)
    }

    @Test func sseFrameIsOneFrame() {
        let frame = Self.events[2].sseFrame
        #expect(frame.hasPrefix("id: 3\nevent: error\ndata: {\"id\":3,"))
        #expect(frame.hasSuffix("}\n\n"))
        // The message's line break is escaped, so data is one line.
        #expect(frame.split(separator: "\n", omittingEmptySubsequences: false).count == 5)
    }

    /// Frames, a keep-alive comment between them, in LF and CRLF forms.
    static func stream(lineEnd: String) -> [UInt8] {
        var text = ": stream opened\n"
        for (offset, event) in events.enumerated() {
            text += event.sseFrame
            if offset == 1 { text += ": keep-alive\n\n" }
        }
        return Array(text.replacing("\n", with: lineEnd).utf8)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func parserSurvivesACutAtEveryPosition(_ lineEnd: String) throws {
        let bytes = Self.stream(lineEnd: lineEnd)
        var whole = ScenarioEventParser()
        #expect(try whole.feed(bytes) == Self.events)
        for cut in 0...bytes.count {
            var parser = ScenarioEventParser()
            let events = try parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == Self.events, "cut at \(cut)")
        }
    }

    /// Frames whose data spans two lines and lacks `id` and `kind`, so only the frame's `id:` and `event:`
    /// lines complete it: a line end taken twice (CRLF as two) or a field lost to a cut breaks the event.
    static func splitStream(lineEnd: String) -> [UInt8] {
        var text = ""
        for event in events {
            guard case .object(var object) = event.jsonValue else { return [] }
            object.members.removeAll { $0.key == "id" || $0.key == "kind" }
            let json = JSONValue.object(object).text
            let comma = json.firstIndex(of: ",")!
            text += "id: \(event.id)\nevent: \(event.kind.rawValue)\n"
            text += "data: \(json[...comma])\ndata:\(json[json.index(after: comma)...])\n:keep-alive\n\n"
        }
        return Array(text.replacing("\n", with: lineEnd).utf8)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func parserJoinsSplitDataAtEveryCut(_ lineEnd: String) throws {
        let bytes = Self.splitStream(lineEnd: lineEnd)
        for cut in 0...bytes.count {
            var parser = ScenarioEventParser()
            let events = try parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == Self.events, "cut at \(cut)")
            #expect(parser.lastEventID == "4")
        }
    }

    @Test func parserTakesOneByteAtATime() throws {
        var parser = ScenarioEventParser()
        var events: [ScenarioEvent] = []
        var ids: [String?] = []
        for byte in Self.stream(lineEnd: "\r\n") {
            events += try parser.feed([byte])
            ids.append(parser.lastEventID)
        }
        #expect(events == Self.events)
        #expect(parser.lastEventID == "4")
        #expect(Set(ids.compactMap { $0 }) == ["1", "2", "3", "4"])
    }

    @Test func parserJoinsDataLinesAndFillsIdAndKindFromTheFrame() throws {
        var parser = ScenarioEventParser()
        let text =
            "\u{FEFF}retry: 1000\nid: 9\nevent: ended\ndata: {\"at_ms\": 5,\ndata:\"end_reason\":\n"
            + "data:  \"completed\"}\nunknown: x\n\n"
            // A frame without data is no event, but its id counts.
            + "id: 10\n\n"
        let events = try parser.feed(Array(text.utf8))
        #expect(events == [ScenarioEvent(id: 9, kind: .ended, atMs: 5, endReason: .completed)])
        #expect(parser.lastEventID == "10")
        // An incomplete frame is held back until its empty line.
        #expect(try parser.feed(Array("data: {\"id\":11,\"kind\":\"started\",\"at_ms\":1}\n".utf8)).isEmpty)
        #expect(try parser.feed([UInt8(ascii: "\n")]) == [ScenarioEvent(id: 11, kind: .started, atMs: 1)])
    }

    @Test func parserErrorsNameTheEventAndRecover() throws {
        var parser = ScenarioEventParser()
        // The bad frame's chunk also holds a good frame and half of another: the error comes once the chunk is
        // read, and the half frame completes with the next chunk.
        let next = Array(Self.events[1].sseFrame.utf8)
        #expect(throws: ScenarioError.self) {
            try parser.feed(Array("id: 5\ndata: {nope\n\n".utf8) + Array(Self.events[0].sseFrame.utf8) + next[..<20])
        }
        #expect(try parser.feed(next[20...]) == [Self.events[1]])
        do {
            _ = try parser.feed(Array("id: 6\ndata: {\"id\":6,\"kind\":\"phase\",\"at_ms\":1,\"phase\":{}}\n\n".utf8))
            Issue.record("a phase without fields must not decode")
        } catch {
            #expect(error.code == .invalidField)
            #expect(error.field == "data.phase.index")
            #expect(error.reason == "event 6: missing")
        }
        do {
            _ = try parser.feed(Array("data: [1]\n\n".utf8))
            Issue.record("a list is no event")
        } catch {
            #expect(error.field == "data")
        }
        #expect(try parser.feed(Array(Self.events[0].sseFrame.utf8)) == [Self.events[0]])
    }

    // MARK: Report

    static let report = RecoveryReport(
        id: "s1",
        name: "api-flap",
        proxies: ["p"],
        state: .ended,
        endReason: .completed,
        phases: [
            .init(
                index: 0,
                name: "up #1",
                impaired: false,
                outage: false,
                startedMs: 0.3,
                endedMs: 150.2,
                counts: ActivityCounts(accepted: 1, closed: 0, bytesUp: 10, bytesDown: 10, cut: 0, dialFailures: 0),
                attemptsPerSecond: nil
            )
        ],
        transitions: [
            .init(fromPhase: 1, toPhase: 2, atMs: 300.1, firstConnectionMs: 120.4, recoveryMs: 121.0)
        ],
        kept: []
    )

    @Test func reportHasTheDocumentedKeys() {
        #expect(
            Self.report.jsonValue.text
                == #"{"id":"s1","name":"api-flap","proxies":["p"],"state":"ended","end_reason":"completed","#
                + #""phases":[{"index":0,"name":"up #1","impaired":false,"outage":false,"started_ms":0.3,"#
                + #""ended_ms":150.2,"accepted":1,"closed":0,"bytes_up":10,"bytes_down":10,"cut":0,"#
                + #""dial_failures":0,"attempts_per_second":null}],"#
                + #""transitions":[{"from_phase":1,"to_phase":2,"at_ms":300.1,"first_connection_ms":120.4,"#
                + #""recovery_ms":121}],"#
                + #""totals":{"accepted":1,"closed":0,"bytes_up":10,"bytes_down":10,"cut":0,"dial_failures":0},"#
                + #""kept":[]}"#
        )
    }

    @Test func reportRoundTrips() throws {
        var running = ReportAssertionTests.report
        running.state = .running
        running.endReason = nil
        running.name = nil
        running.phases[running.phases.count - 1].endedMs = nil
        let empty = RecoveryReport(
            id: "s3",
            name: nil,
            proxies: [],
            state: .running,
            endReason: nil,
            phases: [],
            transitions: [],
            kept: []
        )
        for report in [Self.report, ReportAssertionTests.report, running, empty] {
            #expect(try RecoveryReport(json: report.jsonValue) == report)
            #expect(try RecoveryReport(json: Self.parse(report.jsonValue.text)) == report)
        }
    }

    @Test func reportTotalsAreReadAsWrittenOrSummed() throws {
        var report = Self.report
        report.totals = ActivityCounts(accepted: 99)
        #expect(try RecoveryReport(json: report.jsonValue).totals == ActivityCounts(accepted: 99))
        guard case .object(var object) = Self.report.jsonValue else { return }
        object.members.removeAll { $0.key == "totals" }
        #expect(try RecoveryReport(json: .object(object)).totals == Self.report.phases[0].counts)
        #expect(throws: ScenarioError.invalid("phases[0].bytes_down", "must be a whole number, got 1.5")) {
            try RecoveryReport(
                json: Self.parse(
                    Self.report.jsonValue.text.replacing(
                        #""bytes_down":10,"cut""#,
                        with: #""bytes_down":1.5,"cut""#
                    )
                )
            )
        }
    }

    @Test func keptChangeRoundTrips() throws {
        let kept = KeptChange(proxy: "p", item: "proxy", detail: "deleted during the scenario")
        #expect(kept.jsonValue.text == #"{"proxy":"p","item":"proxy","detail":"deleted during the scenario"}"#)
        #expect(try KeptChange(json: kept.jsonValue) == kept)
    }
}
