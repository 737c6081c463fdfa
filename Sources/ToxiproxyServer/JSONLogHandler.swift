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
        writer.string(wallClockTimestamp())
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
}
