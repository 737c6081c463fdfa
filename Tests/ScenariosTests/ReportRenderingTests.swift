import Testing

@testable import Scenarios

@Suite("Report rendering")
struct ReportRenderingTests {
    static let results: [ReportAssertion.Result] = {
        ["cut == 4", "recovery < 30s"].map { try! ReportAssertion.parse($0).evaluate(ReportAssertionTests.report) }
    }()

    // MARK: Text

    @Test func textShowsEveryFigure() {
        let text = ReportAssertionTests.report.renderText(results: Self.results)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "scenario s4 flap & slow: ended (completed)")
        #expect(lines[1] == "proxies: api, db")
        #expect(text.hasSuffix("\n"))

        let header = try! #require(lines.first { $0.contains("start–end ms") })
        for column in ["#", "name", "kind", "accepted", "closed", "bytes up", "bytes down", "cut", "dial failures"] {
            #expect(header.contains(column))
        }
        func row(_ name: String) -> [String] {
            (lines.first { $0.contains("  \(name)  ") } ?? "").split(separator: " ").map(String.init)
        }
        #expect(row("warm-up") == ["1", "warm-up", "healthy", "0.25–1000.25", "5", "5", "100", "200", "0", "0", "-"])
        #expect(row("slow") == ["4", "slow", "impaired", "3000.25–4000.25", "6", "6", "60", "60", "1", "2", "3"])
        #expect(row("lossy").last == "1.5")
        #expect(
            lines.contains {
                $0.contains("down #1") && $0.contains("outage")
                    && $0.hasSuffix("n/a (outage: refused connections never reach the proxy)")
            }
        )
        #expect(row("total") == ["total", "21", "21", "255", "375", "4", "3"])
        // Counts are right-aligned: every row's `dial failures` figure ends where the header's column does.
        let end = header.distance(from: header.startIndex, to: header.firstRange(of: "dial failures")!.upperBound)
        for name in ["warm-up", "down #1", "slow", "up #3", "total"] {
            let line = lines.first { $0.contains("  \(name)  ") }!
            let characters = Array(line)
            #expect(characters.count >= end && characters[end - 1].isNumber, "\(name): \(line)")
            #expect(characters.count == end || characters[end] == " ", "\(name): \(line)")
        }

        #expect(
            lines.contains(
                "  phase 2 (down #1) → phase 3 (up #1) at 2000.25 ms: first connection after 120.4 ms, "
                    + "recovered after 121 ms"
            )
        )
        #expect(
            lines.contains(
                "  phase 5 (down #2) → phase 6 (up #2) at 5000.25 ms: first connection after 30 ms, did not recover"
            )
        )
        #expect(lines.contains("  db: toxic fixed_latency_up: changed by someone else"))
        #expect(lines.contains("assertions: 1 passed, 1 failed"))
        #expect(lines.contains("  PASS  cut == 4  —  sum(cut) = 4 == 4"))
        #expect(
            lines.contains(
                "  FAIL  recovery < 30s  —  max(recovery) = ∞, not < 30000 ms (transition 5 → 6 did not recover)"
            )
        )
    }

    @Test func textOfARunningReportWithNothingYet() {
        var report = RecoveryReport(
            id: "s9",
            name: nil,
            proxies: ["p"],
            state: .running,
            endReason: nil,
            phases: [
                .init(
                    index: 0,
                    name: "down",
                    impaired: true,
                    outage: false,
                    startedMs: 0.5,
                    endedMs: nil,
                    counts: .zero,
                    attemptsPerSecond: nil
                )
            ],
            transitions: [],
            kept: []
        )
        var text = report.renderText()
        #expect(text.hasPrefix("scenario s9: running\n"))
        #expect(text.contains("0.5–… (running)"))
        #expect(text.contains("transitions (impaired → healthy): none"))
        #expect(text.contains("kept changes: none"))
        #expect(!text.contains("assertions"))
        #expect(!text.contains("total"))
        report.transitions = [.init(fromPhase: 0, toPhase: 9, atMs: 1, firstConnectionMs: nil, recoveryMs: nil)]
        text = report.renderText()
        #expect(text.contains("phase 1 (down) → phase 10 at 1 ms: no connection came, did not recover"))
    }

    // MARK: JUnit

    @Test func junitIsWellFormedWithOneCasePerAssertionAndTransition() throws {
        let xml = ReportAssertionTests.report.renderJUnit(results: Self.results)
        let root = try MiniXML.parse(xml)
        #expect(root.name == "testsuites")
        #expect(root.attributes["tests"] == "5")
        #expect(root.attributes["failures"] == "2")
        let suite = try #require(root.children.first)
        #expect(root.children.count == 1)
        #expect(suite.name == "testsuite")
        #expect(suite.attributes["name"] == "scenario s4 flap & slow")
        #expect(suite.attributes["tests"] == "5")
        #expect(suite.attributes["failures"] == "2")

        let cases = suite.children.filter { $0.name == "testcase" }
        #expect(
            cases.map { $0.attributes["name"] ?? "" } == [
                "cut == 4", "recovery < 30s", "recovery after phase 2 (down #1)",
                "recovery after phase 5 (down #2)", "recovery after phase 7 (lossy)",
            ]
        )
        let failing = cases.filter { $0.children.contains { $0.name == "failure" } }.map { $0.attributes["name"] }
        #expect(failing == ["recovery < 30s", "recovery after phase 5 (down #2)"])
        let failure = try #require(cases[1].children.first { $0.name == "failure" })
        #expect(failure.attributes["message"] == Self.results[1].detail)
        #expect(failure.text == Self.results[1].detail)
        let unrecovered = try #require(cases[3].children.first { $0.name == "failure" })
        #expect(unrecovered.attributes["message"] == "did not recover")
        #expect(unrecovered.text.contains("phase 5 (down #2) → phase 6 (up #2)"))
        #expect(cases[2].attributes["time"] == "0.121")
        #expect(cases[4].attributes["time"] == "0.45")

        // The text report rides along, intact after escaping.
        let out = try #require(suite.children.first { $0.name == "system-out" })
        #expect(out.text == ReportAssertionTests.report.renderText())
    }

    @Test func junitEscapesEverything() throws {
        var report = ReportAssertionTests.report
        report.name = "a<b>&\"c\" 'd'\u{01}"
        report.phases[1].name = "</testcase><x>"
        report.state = .running
        let results = [try ReportAssertion.parse("  cut<5&&cut>=1 ").evaluate(report)]
        let root = try MiniXML.parse(report.renderJUnit(results: results))
        let suite = try #require(root.children.first)
        #expect(suite.attributes["name"] == "scenario s4 a<b>&\"c\" 'd'\u{FFFD}")
        let cases = suite.children.filter { $0.name == "testcase" }
        #expect(cases.count == 4)
        #expect(cases[0].attributes["name"] == "  cut<5&&cut>=1 ")
        #expect(cases[1].attributes["name"] == "recovery after phase 2 (</testcase><x>)")
        let unrecovered = try #require(cases[2].children.first { $0.name == "failure" })
        #expect(unrecovered.attributes["message"] == "did not recover (yet: the scenario is still running)")
    }

    @Test func junitWithNothingToTest() throws {
        let report = RecoveryReport(
            id: "s2",
            name: nil,
            proxies: [],
            state: .ended,
            endReason: .stopped,
            phases: [],
            transitions: [],
            kept: []
        )
        let root = try MiniXML.parse(report.renderJUnit())
        #expect(root.attributes["tests"] == "0")
        #expect(root.children.first?.attributes["name"] == "scenario s2")
    }

    // MARK: The checker itself

    @Test(arguments: [
        "<a>", "<a></b>", "<a x=\"1\" x=\"2\"/>", "<a x=1/>", "<a>&bogus;</a>", "<a>x < y</a>", "<a>&</a>",
        "<a/><b/>", "<a x=\"<\"/>", "<a>\u{01}</a>", "text", "<a></a>trailing", "<1a/>",
    ])
    func checkerRejectsMalformedXML(_ text: String) {
        #expect(throws: MiniXML.Malformed.self) { try MiniXML.parse(text) }
    }

    @Test func checkerReadsWellFormedXML() throws {
        let root = try MiniXML.parse(
            "<?xml version=\"1.0\"?>\n<a k='v &amp; &#65;&#x42;'><!-- c --><b/>t&lt;&gt;&quot;&apos;<c>x</c></a>\n"
        )
        #expect(root.attributes["k"] == "v & AB")
        #expect(root.children.map(\.name) == ["b", "c"])
        #expect(root.text == "t<>\"'")
    }
}

/// Just enough of an XML 1.0 parser to tell whether the JUnit output is well-formed (nesting, quoting,
/// entities, allowed characters), and to read it back as a tree.
enum MiniXML {
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    struct Element {
        var name: String
        var attributes: [String: String] = [:]
        var children: [Element] = []
        /// The element's own character data, entities decoded.
        var text = ""
    }

    static func parse(_ text: String) throws(Malformed) -> Element {
        var reader = Reader(scalars: Array(text.unicodeScalars))
        reader.skipSpace()
        if reader.starts(with: "<?xml") {
            guard let end = reader.find("?>") else { throw Malformed(description: "unterminated declaration") }
            reader.index = end + 2
        }
        reader.skipMisc()
        let root = try reader.element()
        reader.skipMisc()
        guard reader.atEnd else { throw Malformed(description: "content after the root element") }
        return root
    }

    private struct Reader {
        var scalars: [Unicode.Scalar]
        var index = 0

        var atEnd: Bool { self.index >= self.scalars.count }
        var current: Unicode.Scalar? { self.atEnd ? nil : self.scalars[self.index] }

        func starts(with prefix: String) -> Bool {
            self.scalars[self.index...].starts(with: prefix.unicodeScalars)
        }

        func find(_ needle: String) -> Int? {
            let pattern = Array(needle.unicodeScalars)
            var position = self.index
            while position + pattern.count <= self.scalars.count {
                if Array(self.scalars[position..<position + pattern.count]) == pattern { return position }
                position += 1
            }
            return nil
        }

        mutating func skipSpace() {
            while let c = self.current, c == " " || c == "\n" || c == "\t" || c == "\r" { self.index += 1 }
        }

        mutating func skipMisc() {
            self.skipSpace()
            while self.starts(with: "<!--"), let end = self.find("-->") {
                self.index = end + 3
                self.skipSpace()
            }
        }

        static func isNameStart(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c == ":" || (c.properties.isAlphabetic)
        }

        mutating func name() throws(Malformed) -> String {
            guard let first = self.current, Self.isNameStart(first) else {
                throw Malformed(description: "expected a name at \(self.index)")
            }
            var name = ""
            while let c = self.current, Self.isNameStart(c) || c == "-" || c == "." || c.properties.numericType != nil {
                name.unicodeScalars.append(c)
                self.index += 1
            }
            return name
        }

        static func isXMLChar(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
            default: false
            }
        }

        /// Character data up to `<` (or the closing quote), entities decoded.
        mutating func characters(until stop: Unicode.Scalar) throws(Malformed) -> String {
            var text = ""
            while let c = self.current, c != stop {
                guard Self.isXMLChar(c) else { throw Malformed(description: "character U+\(c.value) not allowed") }
                if c == "<" { throw Malformed(description: "raw < at \(self.index)") }
                if c == "&" {
                    guard let end = self.scalars[self.index...].firstIndex(of: ";") else {
                        throw Malformed(description: "unterminated entity at \(self.index)")
                    }
                    let entity = String(String.UnicodeScalarView(self.scalars[(self.index + 1)..<end]))
                    let decoded: Unicode.Scalar? =
                        switch entity {
                        case "amp": "&"
                        case "lt": "<"
                        case "gt": ">"
                        case "quot": "\""
                        case "apos": "'"
                        default:
                            entity.hasPrefix("#x")
                                ? UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                                : entity.hasPrefix("#") ? UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init) : nil
                        }
                    guard let decoded, Self.isXMLChar(decoded) else {
                        throw Malformed(description: "bad entity &\(entity);")
                    }
                    text.unicodeScalars.append(decoded)
                    self.index = end + 1
                } else {
                    text.unicodeScalars.append(c)
                    self.index += 1
                }
            }
            return text
        }

        mutating func element() throws(Malformed) -> Element {
            guard self.current == "<" else { throw Malformed(description: "expected an element at \(self.index)") }
            self.index += 1
            var element = Element(name: try self.name())
            while true {
                let before = self.index
                self.skipSpace()
                if self.starts(with: "/>") {
                    self.index += 2
                    return element
                }
                if self.current == ">" {
                    self.index += 1
                    break
                }
                guard self.index > before else { throw Malformed(description: "expected a space at \(self.index)") }
                let key = try self.name()
                guard self.current == "=" else { throw Malformed(description: "expected = after \(key)") }
                self.index += 1
                guard let quote = self.current, quote == "\"" || quote == "'" else {
                    throw Malformed(description: "unquoted value of \(key)")
                }
                self.index += 1
                let value = try self.characters(until: quote)
                guard self.current == quote else { throw Malformed(description: "unterminated value of \(key)") }
                self.index += 1
                guard element.attributes.updateValue(value, forKey: key) == nil else {
                    throw Malformed(description: "duplicate attribute \(key)")
                }
            }
            while true {
                if self.atEnd { throw Malformed(description: "unclosed <\(element.name)>") }
                if self.starts(with: "</") {
                    self.index += 2
                    let name = try self.name()
                    self.skipSpace()
                    guard name == element.name, self.current == ">" else {
                        throw Malformed(description: "</\(name)> closes <\(element.name)>")
                    }
                    self.index += 1
                    return element
                }
                if self.starts(with: "<!--") {
                    guard let end = self.find("-->") else { throw Malformed(description: "unterminated comment") }
                    self.index = end + 3
                } else if self.current == "<" {
                    element.children.append(try self.element())
                } else {
                    element.text += try self.characters(until: "<")
                }
            }
        }
    }
}
