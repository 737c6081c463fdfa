import Foundation
import Testing
import ToxiproxyTestSupport

/// `--help` of every command and subcommand, compared with the snapshots in `Snapshots/` (COLUMNS=100).
///
/// After an intended change of the help, regenerate them and review the diff:
///
///     TOXICTL_UPDATE_SNAPSHOTS=1 swift test --skip-build --filter ToxictlHelpSnapshotTests
@Suite
struct ToxictlHelpSnapshotTests {
    static let commands: [[String]] = [
        [],
        ["serve"],
        ["enable"],
        ["disable"],
        ["status"],
        ["latency"],
        ["latency", "enable"],
        ["latency", "disable"],
        ["timeout"],
        ["timeout", "enable"],
        ["timeout", "disable"],
        ["outage"],
        ["outage", "enable"],
        ["outage", "disable"],
        ["flap"],
        ["scenario"],
        ["scenario", "run"],
        ["scenario", "list"],
        ["scenario", "status"],
        ["scenario", "stop"],
        ["scenario", "attach"],
        ["scenario", "report"],
        ["reset"],
    ]

    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Snapshots"
    )

    static func snapshotFile(_ command: [String]) -> URL {
        Self.snapshots.appendingPathComponent((["toxictl"] + command).joined(separator: "-") + ".txt")
    }

    static var updating: Bool { ProcessInfo.processInfo.environment["TOXICTL_UPDATE_SNAPSHOTS"] == "1" }

    @Test(arguments: Self.commands)
    func helpMatchesTheSnapshot(command: [String]) async throws {
        let result = try await Toxictl.run(command + ["--help"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        let file = Self.snapshotFile(command)
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.snapshots, withIntermediateDirectories: true)
            try Data(result.stdout.utf8).write(to: file)
            return
        }
        let regenerate =
            "If the change is intended, regenerate with "
            + "`TOXICTL_UPDATE_SNAPSHOTS=1 swift test --skip-build --filter ToxictlHelpSnapshotTests` and review the diff."
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no snapshot \(file.path). \(regenerate)")
            return
        }
        #expect(
            result.stdout == expected,
            Comment(
                rawValue: "`toxictl \(command.joined(separator: " ")) --help` differs from \(file.lastPathComponent):\n"
                    + Self.lineDiff(expected: expected, actual: result.stdout) + "\n" + regenerate
            )
        )
    }

    /// `toxictl help <command>` shows the same text as `<command> --help`.
    @Test(arguments: Self.commands.filter { !$0.isEmpty })
    func helpSubcommandMatchesHelpFlag(command: [String]) async throws {
        let flag = try await Toxictl.run(command + ["--help"])
        let subcommand = try await Toxictl.run(["help"] + command)
        #expect(subcommand.status == 0, "\(subcommand)")
        #expect(subcommand.stdout == flag.stdout)
    }

    /// Every subcommand the help lists has a snapshot, and every snapshot is of a command that exists.
    @Test
    func everyCommandHasASnapshotAndNoSnapshotIsStale() async throws {
        var discovered: [[String]] = []
        var queue: [[String]] = [[]]
        while let command = queue.popLast() {
            discovered.append(command)
            let help = try await Toxictl.run(command + ["--help"])
            for subcommand in Self.subcommands(inHelp: help.stdout) {
                queue.append(command + [subcommand])
            }
        }
        let sorted = { (commands: [[String]]) in commands.map { $0.joined(separator: " ") }.sorted() }
        #expect(sorted(discovered) == sorted(Self.commands), "the commands the help lists")
        if !Self.updating {
            let files = try FileManager.default.contentsOfDirectory(atPath: Self.snapshots.path).filter {
                $0.hasSuffix(".txt")
            }
            let expected = Self.commands.map { Self.snapshotFile($0).lastPathComponent }
            #expect(files.sorted() == expected.sorted(), "snapshot files in \(Self.snapshots.path)")
        }
    }

    /// Names under `SUBCOMMANDS:`: lines indented by exactly two spaces.
    static func subcommands(inHelp help: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inSection = true
                continue
            }
            guard inSection else { continue }
            if !line.isEmpty && !line.hasPrefix(" ") { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first,
                !name.contains("'")
            else { continue }
            names.append(String(name))
        }
        return names.filter { $0 != "See" }
    }

    /// The differing lines, numbered, `-` expected and `+` actual.
    static func lineDiff(expected: String, actual: String) -> String {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
        var output: [String] = []
        for index in 0..<max(old.count, new.count) {
            let before = index < old.count ? String(old[index]) : nil
            let after = index < new.count ? String(new[index]) : nil
            guard before != after else { continue }
            let number = String(index + 1)
            let column = String(repeating: " ", count: max(0, 4 - number.count)) + number
            if let before { output.append("\(column) - \(before)") }
            if let after { output.append("\(column) + \(after)") }
        }
        return output.joined(separator: "\n")
    }
}
