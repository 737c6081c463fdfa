#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Line output written straight to the file descriptor, so that a pipe (a CI log, a test) sees each line
/// when it happens; `print` would buffer it until exit when stdout is not a terminal.
enum Console {
    static func line(_ text: String, terminator: String = "\n") {
        self.write(text + terminator, to: STDOUT_FILENO)
    }

    static func error(_ text: String) {
        self.write(text + "\n", to: STDERR_FILENO)
    }

    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                systemWrite(descriptor, $0.baseAddress! + offset, $0.count - offset)
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// The wall-clock time as RFC 3339 UTC with milliseconds, for lines an operator correlates with logs.
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1))-\(pad(Int(parts.tm_mday)))T"
            + "\(pad(Int(parts.tm_hour))):\(pad(Int(parts.tm_min))):\(pad(Int(parts.tm_sec)))."
            + "\(pad(spec.tv_nsec / 1_000_000, 3))Z"
    }
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
