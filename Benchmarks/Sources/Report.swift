#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A goal's number as written in the issue: 0.5, 16, 103.
private func shortest(_ value: Double) -> String {
    let text = "\(value)"
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}

/// What "met" means for a row; only our server's figure is judged.
enum Goal: Sendable {
    /// ours / direct ≥ x
    case ratioAtLeast(Double)
    /// ours / direct ≤ x
    case ratioAtMost(Double)
    /// ours ≤ x (in the row's unit)
    case atMost(Double)
    /// |ours − centre| ≤ tolerance
    case within(centre: Double, tolerance: Double)
    /// Reported only.
    case none

    var text: String {
        switch self {
        case .ratioAtLeast(let x): "≥ \(shortest(x)) × direct"
        case .ratioAtMost(let x): "≤ \(shortest(x)) × direct"
        case .atMost(let x): "≤ \(shortest(x))"
        case .within(let centre, let tolerance): "\(shortest(centre)) ± \(shortest(tolerance))"
        case .none: "(reported)"
        }
    }
}

/// One line of the table: the per-run figures of each column, or why a column has none.
struct Row: Sendable {
    enum Cell: Sendable {
        case samples([Double])
        case note(String)

        var median: Double? {
            if case .samples(let values) = self, !values.isEmpty { return Stats.median(values) }
            return nil
        }

        var text: String {
            switch self {
            case .samples(let values): values.isEmpty ? "—" : formatNumber(Stats.median(values))
            case .note(let note): note
            }
        }
    }

    var title: String
    var goal: Goal
    /// Whether a ratio to the direct column means anything (it does not for a toxic's delay).
    var comparesToDirect = true
    var direct: Cell = .note("—")
    var ours: Cell = .note("—")
    var compare: Cell = .note("—")
    /// Printed under the table: what a figure does not show by itself (a timeout, a skipped run).
    var footnotes: [String] = []

    mutating func add(_ value: Double, to column: Column) {
        func appended(_ cell: Cell) -> Cell {
            if case .samples(let values) = cell { return .samples(values + [value]) }
            return cell.isPlaceholder ? .samples([value]) : cell
        }
        switch column {
        case .direct: self.direct = appended(self.direct)
        case .ours: self.ours = appended(self.ours)
        case .compare: self.compare = appended(self.compare)
        }
    }

    mutating func set(_ note: String, for column: Column) {
        switch column {
        case .direct: self.direct = .note(note)
        case .ours: self.ours = .note(note)
        case .compare: self.compare = .note(note)
        }
    }

    enum Column: Sendable {
        case direct, ours, compare
    }

    /// Whether our figure meets the goal, with the margin, e.g. "yes (0.71×)".
    var verdict: String {
        guard let ours = self.ours.median else { return "—" }
        switch self.goal {
        case .ratioAtLeast(let x):
            guard let direct = self.direct.median, direct > 0 else { return "—" }
            let ratio = ours / direct
            return (ratio >= x ? "yes" : "**no**") + " (\(formatNumber(ratio))×)"
        case .ratioAtMost(let x):
            guard let direct = self.direct.median, direct > 0 else { return "—" }
            let ratio = ours / direct
            return (ratio <= x ? "yes" : "**no**") + " (\(formatNumber(ratio))×)"
        case .atMost(let x):
            return ours <= x ? "yes" : "**no** (+\(formatNumber(ours - x)))"
        case .within(let centre, let tolerance):
            let off = ours - centre
            let sign = off >= 0 ? "+" : ""
            return (abs(off) <= tolerance ? "yes" : "**no**") + " (\(sign)\(formatNumber(off)))"
        case .none:
            return "—"
        }
    }
}

extension Row.Cell {
    fileprivate var isPlaceholder: Bool {
        if case .note(let note) = self { return note == "—" }
        return false
    }
}

/// The markdown table, with the compare columns only when a compare server ran.
func renderTable(_ rows: [Row], withCompare: Bool) -> String {
    var header = ["workload", "direct", "ours", "ours/direct"]
    if withCompare {
        header += ["compare", "compare/direct", "ours/compare"]
    }
    header += ["target (ours)", "met?"]
    var lines = [
        "| " + header.joined(separator: " | ") + " |",
        "|" + header.map { _ in "---" }.joined(separator: "|") + "|",
    ]
    for row in rows {
        var cells = [row.title, row.direct.text, row.ours.text, ratio(row.ours, row.direct, row.comparesToDirect)]
        if withCompare {
            cells += [
                row.compare.text,
                ratio(row.compare, row.direct, row.comparesToDirect),
                ratio(row.ours, row.compare, true),
            ]
        }
        cells += [row.goal.text, row.verdict]
        lines.append("| " + cells.joined(separator: " | ") + " |")
    }
    let footnotes = rows.flatMap { row in row.footnotes.map { "- \(row.title): \($0)" } }
    if !footnotes.isEmpty {
        lines += [""] + footnotes
    }
    return lines.joined(separator: "\n") + "\n"
}

private func ratio(_ numerator: Row.Cell, _ denominator: Row.Cell, _ meaningful: Bool) -> String {
    guard meaningful, let top = numerator.median, let bottom = denominator.median, bottom > 0 else { return "—" }
    return formatNumber(top / bottom) + "×"
}

/// Three significant figures or so, without Foundation's formatter: 1234, 123.4, 12.34, 1.234, 0.0123.
func formatNumber(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    let magnitude = abs(value)
    let decimals: Int
    switch magnitude {
    case 1000...: decimals = 0
    case 100..<1000: decimals = 1
    case 1..<100: decimals = 2
    case 0.01..<1: decimals = 3
    default: decimals = 4
    }
    return fixed(value, decimals: decimals)
}

func fixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    let integer = Int(scaled / scale)
    let fraction = Int(scaled - Double(integer) * scale)
    var text = (value < 0 && scaled > 0 ? "-" : "") + groupThousands(integer)
    if decimals > 0 {
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: decimals - digits.count) + digits
    }
    return text
}

private func groupThousands(_ value: Int) -> String {
    let digits = Array(String(value))
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return result
}

/// Writes RESULTS.md: the generated part, then the hand-written analysis kept from the previous file
/// (everything from `analysisHeading` on), so regenerating the numbers does not erase the explanation.
func writeResults(path: String, generated: String) throws {
    let analysisHeading = "## What limits each figure"
    var analysis = "\(analysisHeading)\n\n(Not written yet: profile, then explain each figure here.)\n"
    if let previous = try? readSmallFile(path), let range = previous.firstRange(of: analysisHeading) {
        analysis = String(previous[range.lowerBound...])
    }
    let text = generated + "\n" + analysis
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw BenchmarkError("open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written > 0 else { throw BenchmarkError("write \(path): \(String(cString: strerror(errno)))") }
        offset += written
    }
}
