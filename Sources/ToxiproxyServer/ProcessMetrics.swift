#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `-runtime-metrics`: the standard Prometheus `process_*` metrics (the names the Go and other clients'
/// process collectors use), read from `/proc/self` at scrape time. Linux only; elsewhere nothing is emitted.
enum ProcessMetrics {
    struct Sample: Equatable {
        var residentMemoryBytes: Int
        var virtualMemoryBytes: Int
        var openFileDescriptors: Int
        var maximumFileDescriptors: Int?
        var cpuSeconds: Double
        var startTimeSeconds: Double
        var threads: Int
    }

    /// The text exposition of `sample`.
    static func render(_ sample: Sample) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric(
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            format(sample.cpuSeconds)
        )
        if let maximum = sample.maximumFileDescriptors {
            metric("process_max_fds", "gauge", "Maximum number of open file descriptors.", "\(maximum)")
        }
        metric("process_open_fds", "gauge", "Number of open file descriptors.", "\(sample.openFileDescriptors)")
        metric(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            "\(sample.residentMemoryBytes)"
        )
        metric(
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            format(sample.startTimeSeconds)
        )
        metric("process_threads", "gauge", "Number of OS threads in the process.", "\(sample.threads)")
        metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", "\(sample.virtualMemoryBytes)")
        return text
    }

    /// A float as Prometheus text: integers without a fraction, others with Swift's shortest round-trip form.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return "\(Int64(value))" }
        return "\(value)"
    }

    /// The fields of `/proc/self/stat` after the command name (which may contain spaces and parentheses),
    /// numbered as in proc(5) from field 3 (`state`) on: index 0 is field 3.
    static func statFields(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    }

    /// `Sample` from the texts of `/proc/self/stat`, `/proc/self/statm` and `/proc/stat`'s `btime`.
    static func parse(
        stat: String,
        statm: String,
        bootTime: Double,
        clockTicksPerSecond: Double,
        pageSize: Int,
        openFileDescriptors: Int,
        maximumFileDescriptors: Int?
    ) -> Sample? {
        // proc(5): utime 14, stime 15, num_threads 20, starttime 22, vsize 23, rss 24 (1-based).
        guard let fields = statFields(stat), fields.count >= 22,
            let utime = Double(fields[14 - 3]), let stime = Double(fields[15 - 3]),
            let threads = Int(fields[20 - 3]), let startTicks = Double(fields[22 - 3]),
            let virtualBytes = Int(fields[23 - 3])
        else { return nil }
        let statmFields = statm.split(separator: " ")
        guard statmFields.count >= 2, let residentPages = Int(statmFields[1]) else { return nil }
        return Sample(
            residentMemoryBytes: residentPages * pageSize,
            virtualMemoryBytes: virtualBytes,
            openFileDescriptors: openFileDescriptors,
            maximumFileDescriptors: maximumFileDescriptors,
            cpuSeconds: (utime + stime) / clockTicksPerSecond,
            startTimeSeconds: bootTime + startTicks / clockTicksPerSecond,
            threads: threads
        )
    }

    /// Reads the process's sample now, or nil where `/proc` is missing.
    static func read() -> Sample? {
        #if os(Linux)
        guard let stat = readText("/proc/self/stat"), let statm = readText("/proc/self/statm"),
            let procStat = readText("/proc/stat"),
            let btimeLine = procStat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let bootTime = Double(btimeLine.dropFirst("btime ".count).trimmingCharacters(in: " "))
        else { return nil }
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        let maximum: Int? = getrlimit(resource, &limit) == 0 ? Int(limit.rlim_cur) : nil
        return parse(
            stat: stat,
            statm: statm,
            bootTime: bootTime,
            clockTicksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Int(sysconf(Int32(_SC_PAGESIZE))),
            openFileDescriptors: countOpenFileDescriptors(),
            maximumFileDescriptors: maximum
        )
        #else
        return nil
        #endif
    }

    /// Entries of `/proc/self/fd`, less the one `opendir` itself holds while listing.
    private static func countOpenFileDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)
    }

    private static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var text = self
        while text.first == set || text.first == "\n" { text = text.dropFirst() }
        while text.last == set || text.last == "\n" { text = text.dropLast() }
        return text
    }
}
