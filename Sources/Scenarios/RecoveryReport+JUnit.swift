extension RecoveryReport {
    /// JUnit XML (`-o junit`): one test case per assertion, and one per transition ("recovered").
    ///
    /// The suite is `scenario ID NAME`; a transition's case is `recovery after phase N (NAME)` (N the impaired
    /// phase) and fails when nothing from an upstream reached a client after it. The text report rides along
    /// as the suite's `system-out`, so a CI page shows the figures next to the verdicts.
    public func renderJUnit(results: [ReportAssertion.Result] = []) -> String {
        let className = "scenario.\(self.id)"
        var cases: [String] = []
        var failures = 0

        for result in results {
            var body = "    <testcase classname=\"\(xml(className))\" name=\"\(xml(result.assertion.text))\">\n"
            if result.passed {
                body += "      <system-out>\(xml(result.detail, inText: true))</system-out>\n"
            } else {
                failures += 1
                body +=
                    "      <failure type=\"assertion\" message=\"\(xml(result.detail))\">\(xml(result.detail, inText: true))</failure>\n"
            }
            cases.append(body + "    </testcase>\n")
        }

        for transition in self.transitions {
            let phase = self.phaseName(transition.fromPhase).map { " (\($0))" } ?? ""
            let name = "recovery after phase \(transition.fromPhase + 1)\(phase)"
            let detail = self.describe(transition)
            var body = "    <testcase classname=\"\(xml(className))\" name=\"\(xml(name))\""
            if let recovery = transition.recoveryMs {
                body += " time=\"\((recovery / 1000).wireDecimalText)\">\n"
                body += "      <system-out>\(xml(detail, inText: true))</system-out>\n"
            } else {
                failures += 1
                let message =
                    self.state == .running
                    ? "did not recover (yet: the scenario is still running)" : "did not recover"
                body +=
                    ">\n      <failure type=\"recovery\" message=\"\(xml(message))\">\(xml(detail, inText: true))</failure>\n"
            }
            cases.append(body + "    </testcase>\n")
        }

        let suiteName = self.name.map { "scenario \(self.id) \($0)" } ?? "scenario \(self.id)"
        let counts = "tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\""
        var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        output += "<testsuites name=\"\(xml(suiteName))\" \(counts)>\n"
        output += "  <testsuite name=\"\(xml(suiteName))\" \(counts)>\n"
        output += cases.joined()
        output += "    <system-out>\(xml(self.renderText(), inText: true))</system-out>\n"
        output += "  </testsuite>\n"
        output += "</testsuites>\n"
        return output
    }
}

/// Escaped for an XML attribute value (`inText: false`) or text content. Characters XML 1.0 does not allow at
/// all (most C0 controls, U+FFFE, U+FFFF) become U+FFFD, since no escape can carry them; in attributes line
/// breaks and tabs become character references, which a parser would otherwise turn into spaces.
private func xml(_ text: String, inText: Bool = false) -> String {
    var output = ""
    output.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": output += "&amp;"
        case "<": output += "&lt;"
        case ">": output += "&gt;"
        case "\"": output += "&quot;"
        case "'": output += "&apos;"
        case "\n": output += inText ? "\n" : "&#10;"
        case "\r": output += "&#13;"
        case "\t": output += inText ? "\t" : "&#9;"
        case "\u{00}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": output += "\u{FFFD}"
        default: output.unicodeScalars.append(scalar)
        }
    }
    return output
}
