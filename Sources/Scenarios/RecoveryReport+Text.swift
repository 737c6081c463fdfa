extension RecoveryReport {
    /// The report for people (`-o text`): a header, the phase table, the transitions with their recovery
    /// times, what the restore kept, and the assertions' verdicts.
    public func renderText(results: [ReportAssertion.Result] = []) -> String {
        var lines = [self.headline, "proxies: \(self.proxies.joined(separator: ", "))", ""]

        lines.append("phases")
        var rows: [[String]] = [
            [
                "#", "name", "kind", "start–end ms", "accepted", "closed", "bytes up", "bytes down", "cut",
                "dial failures", "attempts/s",
            ]
        ]
        for phase in self.phases {
            rows.append(
                ["\(phase.index + 1)", phase.name, phase.kindText, phase.spanText]
                    + phase.counts.columns + [phase.attemptsText]
            )
        }
        if self.phases.count > 1 {
            rows.append(["", "total", "", ""] + self.totals.columns + [""])
        }
        lines += Self.table(rows, rightAligned: [0, 4, 5, 6, 7, 8, 9]).map { "  " + $0 }
        lines.append("")

        if self.transitions.isEmpty {
            lines.append("transitions (impaired → healthy): none")
        } else {
            lines.append("transitions (impaired → healthy)")
            for transition in self.transitions {
                lines.append("  " + self.describe(transition))
            }
        }
        lines.append("")

        if self.kept.isEmpty {
            lines.append("kept changes: none")
        } else {
            lines.append("kept changes (changed by someone else during the scenario, left as they are)")
            lines += self.kept.map { "  \($0)" }
        }

        if !results.isEmpty {
            lines.append("")
            let failed = results.filter { !$0.passed }.count
            lines.append("assertions: \(results.count - failed) passed, \(failed) failed")
            for result in results {
                lines.append("  \(result.passed ? "PASS" : "FAIL")  \(result.assertion.text)  —  \(result.detail)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `scenario s1 api-flap: ended (completed)`.
    var headline: String {
        let label = self.name.map { "scenario \(self.id) \($0)" } ?? "scenario \(self.id)"
        let reason = self.endReason.map { " (\($0.rawValue))" } ?? ""
        return "\(label): \(self.state.rawValue)\(reason)"
    }

    func phaseName(_ index: Int) -> String? {
        self.phases.first(where: { $0.index == index })?.name
    }

    /// `phase 1 (down #1) → phase 2 (up #2) at 300.1 ms: first connection after 120.4 ms, recovered after 121 ms`.
    func describe(_ transition: Transition) -> String {
        func phase(_ index: Int) -> String {
            self.phaseName(index).map { "phase \(index + 1) (\($0))" } ?? "phase \(index + 1)"
        }
        let first =
            transition.firstConnectionMs.map { "first connection after \($0.wireDecimalText) ms" }
            ?? "no connection came"
        let recovery =
            transition.recoveryMs.map { "recovered after \($0.wireDecimalText) ms" } ?? "did not recover"
        return
            "\(phase(transition.fromPhase)) → \(phase(transition.toPhase)) at \(transition.atMs.wireDecimalText) ms: "
            + "\(first), \(recovery)"
    }

    /// Columns padded to their widest cell; the last column is never padded (it may be a long note).
    private static func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        let columnCount = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columnCount)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        return rows.map { row in
            var cells: [String] = []
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                if column == columnCount - 1 {
                    cells.append(cell)
                } else {
                    cells.append(rightAligned.contains(column) ? padding + cell : cell + padding)
                }
            }
            var line = cells.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}

extension RecoveryReport.Phase {
    fileprivate var kindText: String { self.outage ? "outage" : self.impaired ? "impaired" : "healthy" }

    fileprivate var spanText: String {
        "\(self.startedMs.wireDecimalText)–\(self.endedMs.map(\.wireDecimalText) ?? "… (running)")"
    }

    fileprivate var attemptsText: String {
        if self.outage { return "n/a (outage: refused connections never reach the proxy)" }
        guard self.impaired else { return "-" }
        return self.attemptsPerSecond.map(\.wireDecimalText) ?? "-"
    }
}

extension ActivityCounts {
    fileprivate var columns: [String] {
        [self.accepted, self.closed, self.bytesUp, self.bytesDown, self.cut, self.dialFailures].map { String($0) }
    }
}
