import Logging
import NIOConcurrencyHelpers
import ToxiproxyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One JSON object per line on standard output, in the reference's shape (`level`, `time`, `message`,
/// then context fields), so log pipelines built for the reference keep working.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private static let writeLock = NIOLock()

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("level")
        writer.string(Self.levelName(event.level))
        writer.key("time")
        writer.string(Self.timestamp())
        writer.key("message")
        writer.string("\(event.message)")
        let merged = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            writer.key(key)
            writer.string("\(merged[key]!)")
        }
        writer.endObject()
        let line = writer.output + "\n"
        Self.writeLock.withLock {
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { buffer in
                    write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                }
                guard written > 0 else { break }
                offset += written
            }
            bytes.removeAll()
        }
    }

    /// zerolog's level names, which the reference prints.
    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "trace"
        case .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error: "error"
        case .critical: "fatal"
        }
    }

    /// Reads a zerolog level name as `LOG_LEVEL` takes it; nil for a name zerolog does not know.
    public static func level(named name: String) -> Logger.Level? {
        switch name.lowercased() {
        case "trace": .trace
        case "debug": .debug
        case "info": .info
        case "warn", "warning": .warning
        case "error": .error
        case "fatal", "panic", "disabled": .critical
        default: nil
        }
    }

    /// RFC 3339 in UTC with second precision, as zerolog writes it.
    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        func pad(_ value: Int32, _ width: Int = 2) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))Z"
    }
}
