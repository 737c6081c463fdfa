import Foundation
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

/// How scenarios, their events and their ends are shown: lines for people, JSON for scripts.
enum ScenarioPrinter {
    /// `+12.345s`: milliseconds since the scenario's start, as the flap prints its phases.
    static func offset(_ milliseconds: Double) -> String {
        "+" + Self.seconds(milliseconds)
    }

    /// `12.345s`, the server's fractional milliseconds rounded to whole ones.
    static func seconds(_ milliseconds: Double) -> String {
        Flap.seconds(.milliseconds(Int64(max(0, milliseconds).rounded())))
    }

    /// A duration as a scenario file writes it (`30s`, `1m30s`).
    static func duration(milliseconds: Double) -> String {
        DurationText.format(.milliseconds(Int64(milliseconds.rounded())))
    }

    static func phaseState(impaired: Bool, outage: Bool) -> String {
        outage ? "outage" : impaired ? "impaired" : "healthy"
    }

    /// `phase 3/40 "down #2"`.
    static func phaseLabel(_ phase: ScenarioStatus.PhaseRef, count: Int?) -> String {
        "phase \(phase.index + 1)\(count.map { "/\($0)" } ?? "") \"\(phase.name)\""
    }

    /// `s1 "api-flap"`, or `s1` without a name.
    static func label(id: String, name: String?) -> String {
        name.map { "\(id) \"\($0)\"" } ?? id
    }

    static func leaseText(graceMs: Double?) -> String {
        graceMs.map { "heartbeat, grace \(Self.duration(milliseconds: $0))" } ?? "none"
    }

    /// One line per event, for `--follow` and `attach`.
    static func eventLine(_ event: ScenarioEvent, phaseCount: Int?) -> String {
        let head = "\(Console.timestamp())  \(Self.offset(event.atMs))  "
        switch event.kind {
        case .started:
            return head + "started (the proxies' state was recorded, to restore at the end)"
        case .phase:
            guard let phase = event.phase else { return head + "phase" }
            let late = event.latenessMs ?? (event.atMs - phase.startedMs)
            let due = phase.startedMs - late
            let skipped = (event.skipped ?? 0) > 0 ? ", \(event.skipped!) skipped while late" : ""
            return head + "\(Self.phaseLabel(phase, count: phaseCount))  "
                + "\(Self.phaseState(impaired: phase.impaired, outage: phase.outage))  "
                + "(due \(Self.offset(due)), \(Int64(late.rounded())) ms late\(skipped))"
        case .error:
            return head + "error: \(event.message ?? "a phase could not be applied fully")"
        case .ended:
            return head + "ended: \(event.endReason?.rawValue ?? "unknown")"
        }
    }

    /// What the restore did, in lines: restored, or what it kept and what failed.
    static func restoreLines(kept: [KeptChange], restoreErrors: [String]) -> [String] {
        var lines: [String] = []
        if kept.isEmpty && restoreErrors.isEmpty {
            lines.append("restored: the proxies are as they were before the scenario")
        } else if restoreErrors.isEmpty {
            lines.append("restored, except what someone else changed during the scenario (left as it is):")
        } else {
            lines.append("the restore was incomplete:")
        }
        for change in kept { lines.append("  kept \(change)") }
        for error in restoreErrors { lines.append("  FAILED \(error)") }
        return lines
    }

    /// The exit status a scenario's end means: 0 when it ran as planned (to the end of its timeline or its
    /// bound) and was restored, 1 otherwise.
    static func exitStatus(_ reason: EndReason?, restoreErrors: [String]) -> Int32 {
        guard restoreErrors.isEmpty else { return 1 }
        switch reason {
        case .completed, .boundReached: return 0
        default: return 1
        }
    }

    /// Why a scenario ended, for people.
    static func reasonText(_ reason: EndReason?) -> String {
        switch reason {
        case .completed: "completed (its timeline ran to the end)"
        case .boundReached: "bound_reached (its hard bound, `for`, came first)"
        case .stopped: "stopped"
        case .leaseExpired: "lease_expired (no heartbeat came within its grace period)"
        case .shutdown: "shutdown (the server shut down)"
        case .failed: "failed (a phase could not be applied)"
        case nil: "unknown"
        }
    }

    /// The end of a run, in a few lines: why, how long, what the restore did.
    static func endLines(_ status: ScenarioStatus) -> [String] {
        var lines = [
            "scenario \(Self.label(id: status.id, name: status.name)) ended: \(Self.reasonText(status.endReason)) "
                + "after \(Self.seconds(status.elapsedMs)), \(status.history.count) phase(s) applied"
        ]
        lines += Self.restoreLines(kept: status.kept, restoreErrors: status.restoreErrors)
        return lines
    }

    /// The recovery report in three lines, for the end of `scenario run`.
    static func reportSummary(_ report: RecoveryReport) -> [String] {
        let totals = report.totals
        var lines = [
            "report: \(report.phases.count) phase(s): \(totals.accepted) connection(s) accepted, "
                + "\(totals.closed) closed, \(totals.cut) cut, \(totals.dialFailures) upstream dial failure(s); "
                + "\(totals.bytesUp) bytes up, \(totals.bytesDown) bytes down"
        ]
        let transitions = report.transitions
        if transitions.isEmpty {
            lines.append("recovery: no impaired → healthy transition")
        } else {
            let recovered = transitions.compactMap(\.recoveryMs)
            let unrecovered = transitions.count - recovered.count
            let slowest = recovered.max().map { "slowest recovery \(Int64($0.rounded())) ms" } ?? "none recovered"
            lines.append(
                "recovery: \(transitions.count) impaired → healthy transition(s): \(slowest), "
                    + "\(unrecovered) without any traffic back"
            )
        }
        return lines
    }

    // MARK: - Status

    /// `scenario list`: one row per scenario.
    static func table(_ scenarios: [ScenarioStatus]) -> String {
        guard !scenarios.isEmpty else { return "no scenarios (running, or among the last 50 ended)" }
        let rows =
            [["ID", "NAME", "STATE", "PROXIES", "PHASE", "ELAPSED", "LEASE"]]
            + scenarios.map { status in
                [
                    status.id, status.name ?? "-",
                    status.state == .running ? "running" : "ended: \(status.endReason?.rawValue ?? "?")",
                    status.proxies.joined(separator: ","),
                    status.currentPhase.map { "\($0.index + 1)\(status.phaseCount.map { "/\($0)" } ?? "") \($0.name)" }
                        ?? "-",
                    "\(Self.seconds(status.elapsedMs)) of \(Self.duration(milliseconds: status.boundMs))",
                    status.leaseGraceMs.map { "grace \(Self.duration(milliseconds: $0))" } ?? "none",
                ]
            }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }

    /// `scenario status`: everything about one scenario.
    static func detail(_ status: ScenarioStatus) -> String {
        var lines = [
            "scenario \(Self.label(id: status.id, name: status.name)) on \(status.proxies.joined(separator: ", "))"
        ]
        switch status.state {
        case .running:
            lines.append(
                "state: running for \(Self.seconds(status.elapsedMs)) of its bound "
                    + "\(Self.duration(milliseconds: status.boundMs)) (started \(status.startedAt))"
            )
        case .ended:
            lines.append(
                "state: ended: \(Self.reasonText(status.endReason)) after \(Self.seconds(status.elapsedMs)) "
                    + "(started \(status.startedAt))"
            )
        }
        var lease = "lease: " + Self.leaseText(graceMs: status.leaseGraceMs)
        if let expires = status.leaseExpiresInMs {
            lease += ", expires in \(Self.seconds(expires)) without a heartbeat"
        }
        lines.append(lease)
        if status.state == .running, let phase = status.currentPhase {
            var line =
                "now: \(Self.phaseLabel(phase, count: status.phaseCount)) "
                + "\(Self.phaseState(impaired: phase.impaired, outage: phase.outage)) since \(Self.offset(phase.startedMs))"
            if let next = status.nextDueMs { line += ", next change at \(Self.offset(next))" }
            lines.append(line)
        }
        if !status.history.isEmpty {
            lines.append("phases:")
            for entry in status.history {
                let ended = entry.endedMs.map { "–\(Self.offset($0))" } ?? "–now"
                lines.append(
                    "  \(entry.index + 1). \(entry.name)  \(Self.phaseState(impaired: entry.impaired, outage: entry.outage))  "
                        + "\(Self.offset(entry.startedMs))\(ended)  (due \(Self.offset(entry.dueMs)), "
                        + "\(Int64(entry.latenessMs.rounded())) ms late)"
                )
            }
        }
        if status.state == .ended {
            lines += Self.restoreLines(kept: status.kept, restoreErrors: status.restoreErrors)
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - JSON

    /// `{"target": ..., KEY: VALUE, ...}`, one line.
    static func json(target: String, _ members: [(String, JSONValue)]) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("target")
        writer.string(target)
        for (key, value) in members {
            writer.key(key)
            writer.raw(value.text)
        }
        writer.endObject()
        return writer.output
    }

    static func json(_ results: [ReportAssertion.Result]) -> JSONValue {
        .array(
            results.map { result in
                .object(
                    JSONObject([
                        ("assertion", .string(result.assertion.text)),
                        ("passed", .bool(result.passed)),
                        ("detail", .string(result.detail)),
                    ])
                )
            }
        )
    }
}
