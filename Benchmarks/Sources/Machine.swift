import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the figures were measured on, for RESULTS.md. Linux-only sources (/proc); elsewhere "unknown".
enum Machine {
    static var cpuModel: String {
        let text = (try? readSmallFile("/proc/cpuinfo")) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].drop { $0 == " " }.description
            }
        }
        return "unknown"
    }

    static var kernel: String {
        let release = (try? readSmallFile("/proc/sys/kernel/osrelease")) ?? "unknown"
        return "Linux " + release.filter { !$0.isNewline }
    }

    static var memory: String {
        let text = (try? readSmallFile("/proc/meminfo")) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("MemTotal:") {
            if let kibibytes = Int(line.filter(\.isNumber)) {
                return "\(kibibytes / 1024 / 1024) GiB"
            }
        }
        return "unknown"
    }

    static var loadAverage: String {
        let text = (try? readSmallFile("/proc/loadavg")) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// `swift --version`'s first line, run with a bound so a missing or hung toolchain cannot stall.
    static var swiftVersion: String {
        let path = "/tmp/toxiproxy-bench-swift-version-\(getpid())"
        defer { unlink(path) }
        guard let output = runCapturing(["swift", "--version"], outputPath: path, timeoutSeconds: 20) else {
            return "unknown"
        }
        return output.split(separator: "\n").first { $0.contains("Swift version") }.map(String.init) ?? "unknown"
    }

    /// Lets the process hold the sockets of the largest workloads: each idle connection is two sockets here
    /// (client and in-process upstream) and two in the server, which inherits this limit.
    static func raiseOpenFileLimit(needed: Int) {
        var limit = rlimit()
        #if canImport(Glibc) || canImport(Musl)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        if limit.rlim_cur < rlim_t(needed) {
            progress("warning: open-file limit \(limit.rlim_cur) is below the \(needed) the workloads need")
        }
    }
}

/// CPU time of the whole machine and of this process with its reaped children, to tell afterwards how
/// much of the machine other work (builds, tests) took while the benchmark ran.
struct CPUSample {
    /// Busy CPU time of all cores, in clock ticks.
    var machineBusy: Int
    /// This process plus its waited-for children (the servers under test), in clock ticks.
    var ours: Int
    var time: UInt64

    static func now() -> CPUSample {
        var busy = 0
        if let text = try? readSmallFile("/proc/stat"), let line = text.split(separator: "\n").first {
            let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
            // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
            for (index, value) in fields.prefix(8).enumerated() where index != 3 && index != 4 {
                busy += value
            }
        }
        var ours = 0
        if let text = try? readSmallFile("/proc/self/stat"), let end = text.lastIndex(of: ")") {
            let fields = text[text.index(after: end)...].split(separator: " ")
            // After the command name: state is field 3, utime..cstime are fields 14...17.
            ours = fields.dropFirst(11).prefix(4).compactMap { Int($0) }.reduce(0, +)
        }
        return CPUSample(machineBusy: busy, ours: ours, time: nowNanos())
    }

    /// "other processes used 123 CPU-s (45 % of 2 cores)".
    static func othersDescription(from start: CPUSample, to end: CPUSample) -> String {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let others = Double(max(0, (end.machineBusy - start.machineBusy) - (end.ours - start.ours))) / ticksPerSecond
        let elapsed = Double(end.time - start.time) / 1e9
        let share = others / (elapsed * Double(System.coreCount)) * 100
        return "other processes used \(fixed(others, decimals: 0)) CPU-seconds during the "
            + "\(fixed(elapsed, decimals: 0)) s run (\(fixed(share, decimals: 0)) % of the machine's "
            + "\(System.coreCount) cores)"
    }
}

/// Runs a command found on PATH with standard output and error to `outputPath`; nil if it fails or
/// takes longer than `timeoutSeconds` (then it is killed).
func runCapturing(_ argv: [String], outputPath: String, timeoutSeconds: Int) -> String? {
    guard let pid = try? spawnProcess(argv, outputPath: outputPath) else { return nil }
    var status: Int32 = 0
    let deadline = nowNanos() + UInt64(timeoutSeconds) * 1_000_000_000
    while waitpid(pid, &status, WNOHANG) == 0 {
        if nowNanos() > deadline {
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            return nil
        }
        usleep(20_000)
    }
    return try? readSmallFile(outputPath)
}
