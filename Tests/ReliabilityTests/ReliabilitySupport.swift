import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The reliability suite: soak with chaos, admin API abuse, connection churn, shutdown under load. The server
/// runs as a subprocess (the built `toxiproxy-server`), so its crash is visible as an exit and its descriptors
/// and memory can be read from `/proc`; clients and the echo upstream run here, on 127.0.0.1. One test at a
/// time: each one measures the whole machine.
@Suite(
    .serialized,
    .enabled(
        if: ReliabilityProfile.serverExecutable != nil,
        "set RELIABILITY_SERVER to a toxiproxy-server binary; scripts/test builds and sets the release one"
    )
)
enum Reliability {}

/// How long and how much. The CI form by default; `RELIABILITY_LONG=1` for the long form.
enum ReliabilityProfile {
    static let isLong = ProcessInfo.processInfo.environment["RELIABILITY_LONG"] == "1"
    static var name: String { isLong ? "long" : "CI" }

    /// The server binary under test: `RELIABILITY_SERVER`. scripts/test sets it to the release build, what
    /// operators run and what the bounds are for; without it the suite is skipped.
    static let serverExecutable: URL? = ProcessInfo.processInfo.environment["RELIABILITY_SERVER"].map {
        URL(fileURLWithPath: $0)
    }

    static var soakDuration: Duration { isLong ? .seconds(600) : .seconds(20) }

    static let abuseRequests = 10_000

    /// Connect/close cycles; all of them must be done within `churnTimeBudget`.
    static var churnCycles: Int { isLong ? 1_000_000 : 100_000 }
    static var churnTimeBudget: Duration { isLong ? .seconds(3600) : .seconds(300) }
}

/// Prints a measured figure so that a run shows the numbers the README quotes.
func report(_ test: String, _ text: String) {
    let server = ReliabilityProfile.serverExecutable?.path ?? "?"
    print("reliability[\(test), \(ReliabilityProfile.name) form, \(server)]: \(text)")
}

// MARK: - The server under test

/// A `toxiproxy-server` subprocess on 127.0.0.1 and what can be measured of it from outside.
struct ServerUnderTest: Sendable {
    let product: ProductProcess
    let adminPort: Int

    var admin: AdminClient { AdminClient(port: self.adminPort) }
    var pid: Int32 { self.product.processIdentifier }
    var isRunning: Bool { self.product.isRunning }

    /// Starts the server on a free admin port, waits until its API answers, runs `body`, and kills the server
    /// afterwards if it is still running. Retries with another port if the port was taken meanwhile.
    static func with<T>(
        arguments: [String] = [],
        _ body: (ServerUnderTest) async throws -> T
    ) async throws -> T {
        raiseDescriptorLimit()
        if let executable = ReliabilityProfile.serverExecutable,
            !FileManager.default.isExecutableFile(atPath: executable.path)
        {
            throw TestFailure("RELIABILITY_SERVER=\(executable.path) is not an executable file")
        }
        for _ in 0..<3 {
            let port = try await Loopback.freePort()
            let product = try ProductProcess.start(
                "toxiproxy-server",
                ["-host", "127.0.0.1", "-port", "\(port)"] + arguments,
                executable: ReliabilityProfile.serverExecutable,
                unsetting: ["LOG_LEVEL"]
            )
            defer { product.cleanUp() }
            let server = ServerUnderTest(product: product, adminPort: port)
            let ready = await eventually(timeout: .seconds(15)) {
                guard product.isRunning else { return true }
                return (try? await RawHTTP.call(port: port, "GET", "/version", timeout: .seconds(2)).status) == 200
            }
            guard ready else { throw TestFailure("the admin API did not answer within 15 s: \(product.stdout)") }
            guard product.isRunning else { continue }
            return try await body(server)
        }
        throw TestFailure("toxiproxy-server exited at start three times")
    }

    /// Fails with the server's output when it is no longer running (a crash, or an exit of its own).
    func requireRunning(_ when: String) throws {
        guard self.product.isRunning else {
            let how = self.product.terminationReason == .uncaughtSignal ? "signal" : "exit status"
            throw TestFailure(
                "toxiproxy-server is gone \(when): \(how) \(self.product.exitStatus); "
                    + "stderr: \(self.product.stderr.suffix(2000)); stdout: \(self.product.stdout.suffix(2000))"
            )
        }
    }

    // MARK: Measuring

    /// Open file descriptors of the server (`/proc/PID/fd`).
    func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(self.pid)/fd").count
    }

    /// What the open descriptors are, by kind (`socket`, `anon_inode:[eventpoll]`, `pipe`, a path...), for
    /// failure messages.
    func descriptorKinds() -> [String: Int] {
        let directory = "/proc/\(self.pid)/fd"
        var kinds: [String: Int] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(entry)")) ?? "?"
            let kind = target.split(separator: ":").first.map(String.init) ?? target
            kinds[kind.hasPrefix("anon_inode") ? target : kind, default: 0] += 1
        }
        return kinds
    }

    /// Resident set size of the server in bytes (`VmRSS` of `/proc/PID/status`).
    func residentBytes() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(self.pid)/status", encoding: .utf8)
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        throw TestFailure("no VmRSS in /proc/\(self.pid)/status")
    }

    /// CPU time (user + system) the server has used so far, in seconds (`/proc/PID/stat`).
    func cpuSeconds() -> Double { processCPUSeconds(self.pid) }

    /// Waits until the server holds at most `limit` descriptors; returns the last count seen and whether it
    /// got there within `timeout`.
    func waitForDescriptors(atMost limit: Int, timeout: Duration) async throws -> (reached: Bool, count: Int) {
        let reached = await eventually(timeout: timeout) { ((try? self.openDescriptors()) ?? Int.max) <= limit }
        return (reached, try self.openDescriptors())
    }

    /// The descriptors and RSS a measurement starts from, once a warm-up's connections are gone (its
    /// descriptors back to `idleDescriptors`, recorded as an issue when they are not within 15 s): the
    /// allocator's pools and every lazily created structure exist by then.
    func baselineAfterWarmUp(idleDescriptors: Int) async throws -> (descriptors: Int, residentBytes: Int) {
        let settled = try await self.waitForDescriptors(atMost: idleDescriptors, timeout: .seconds(15))
        #expect(
            settled.reached,
            "after warm-up \(settled.count) descriptors, \(idleDescriptors) before: \(self.descriptorKinds())"
        )
        return (settled.count, try self.residentBytes())
    }

    /// Waits until the server's RSS is at most `limit` bytes (memory freed by closed connections may take a
    /// moment to be returned); returns the last RSS seen and whether it got there within `timeout`.
    func waitForResident(atMost limit: Int, timeout: Duration) async throws -> (reached: Bool, bytes: Int) {
        let reached = await eventually(timeout: timeout) { ((try? self.residentBytes()) ?? Int.max) <= limit }
        return (reached, try self.residentBytes())
    }

    // MARK: Admin calls

    /// Creates an enabled proxy listening on an ephemeral port of 127.0.0.1; returns that port.
    /// The server's log lines about upstream connections that failed, for a failure message.
    func upstreamErrors() -> [Substring] {
        self.product.stdout.split(separator: "\n").filter { $0.contains("upstream") && $0.contains("\"error\"") }
            .suffix(10)
    }

    func createProxy(_ name: String, upstreamPort: Int) async throws -> Int {
        try await self.admin.createProxy(name: name, upstreamPort: upstreamPort)
    }
}

/// Samples the server's descriptors and RSS in the background, for the peaks during a load.
final class ResourceSampler: Sendable {
    struct Peaks: Sendable {
        var descriptors = 0
        var residentBytes = 0
        /// Every sample's RSS, in order.
        var residentTimeline: [Int] = []

        /// Up to `count` evenly spaced samples of the timeline, in MiB.
        func timeline(_ count: Int = 10) -> String {
            guard !self.residentTimeline.isEmpty else { return "[]" }
            let step = max(1, self.residentTimeline.count / count)
            let picked = stride(from: step - 1, to: self.residentTimeline.count, by: step).map {
                self.residentTimeline[$0]
            }
            return "[" + picked.map { String(format: "%.0f", Double($0) / 1_048_576) }.joined(separator: ", ") + "] MiB"
        }
    }

    private let peaks = NIOLockedValueBox(Peaks())
    private let task: Task<Void, Never>

    init(_ server: ServerUnderTest, every interval: Duration = .milliseconds(250)) {
        let peaks = self.peaks
        self.task = Task {
            while !Task.isCancelled {
                let descriptors = (try? server.openDescriptors()) ?? 0
                let resident = (try? server.residentBytes()) ?? 0
                peaks.withLockedValue {
                    $0.descriptors = max($0.descriptors, descriptors)
                    $0.residentBytes = max($0.residentBytes, resident)
                    $0.residentTimeline.append(resident)
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    func stop() async -> Peaks {
        self.task.cancel()
        await self.task.value
        return self.peaks.withLockedValue { $0 }
    }
}

/// CPU time (user + system) of process `pid` so far, in seconds; 0 when unreadable.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let afterName = stat.split(separator: ")").last
    else { return 0 }
    // Fields after the command name: state is field 3 of the whole line, utime 14, stime 15.
    let fields = afterName.split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Average CPU use of the server and of this test process between `start` and now, as "server N%, tests M%".
struct CPUWindow {
    let server: ServerUnderTest
    let wall = ContinuousClock.now
    let serverStart: Double
    let testsStart = processCPUSeconds(getpid())

    init(_ server: ServerUnderTest) {
        self.server = server
        self.serverStart = server.cpuSeconds()
    }

    var summary: String {
        let seconds = max((ContinuousClock.now - self.wall).milliseconds / 1000, 0.001)
        let server = (self.server.cpuSeconds() - self.serverStart) / seconds * 100
        let tests = (processCPUSeconds(getpid()) - self.testsStart) / seconds * 100
        return String(format: "CPU: server %.0f%%, test process %.0f%% (of 100%% per core)", server, tests)
    }
}

/// The soft descriptor limit of this process raised to its hard limit (hundreds of client sockets, and the
/// echo upstream's as many again); the server subprocess inherits it.
func raiseDescriptorLimit() {
    var limit = rlimit()
    #if canImport(Glibc)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    let resource = RLIMIT_NOFILE
    #endif
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(resource, &limit)
}

func mebibytes(_ bytes: Int) -> String {
    String(format: "%.1f MiB", Double(bytes) / 1_048_576)
}

func format(_ milliseconds: Double) -> String {
    String(format: "%.1f ms", milliseconds)
}

/// Blocks the calling thread (one of the test's own, never the cooperative pool's) until `instant`.
func sleepThread(until instant: ContinuousClock.Instant) {
    let remaining = instant - ContinuousClock.now
    if remaining > .zero { Thread.sleep(forTimeInterval: remaining.milliseconds / 1000) }
}

// MARK: - Raw HTTP

/// HTTP/1.1 as bytes: any request, well-formed or not, one connection each (`Connection: close` when the
/// request is built here), with a deadline on the whole exchange.
enum RawHTTP {
    struct Reply: Sendable, CustomStringConvertible {
        /// Nil when no status line came back (the server closed without answering).
        var status: Int?
        var head: String
        var body: [UInt8]
        var elapsed: Duration

        var text: String { String(decoding: self.body, as: UTF8.self) }
        var description: String {
            "HTTP \(self.status.map(String.init) ?? "-") \(self.text.prefix(300))"
        }

        func header(_ name: String) -> String? {
            for line in self.head.split(separator: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    static let userAgent = "swift-toxiproxy-reliability"

    /// The bytes of a request with `Connection: close` and a `Content-Length` (unless `headers` sets the
    /// framing itself).
    static func request(
        _ method: String,
        _ target: String,
        body: [UInt8]? = nil,
        headers: [(String, String)] = [("User-Agent", RawHTTP.userAgent)]
    ) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
        if !framed {
            head += "Content-Length: \(body?.count ?? 0)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    /// One request built by `request(...)`, answered within `timeout`.
    static func call(
        port: Int,
        _ method: String,
        _ target: String,
        body: String? = nil,
        timeout: Duration = .seconds(20)
    ) async throws -> Reply {
        try await self.exchange(
            port: port,
            self.request(method, target, body: body.map { Array($0.utf8) }),
            timeout: timeout
        )
    }

    /// `call` on the calling thread, with a blocking socket: for loops that run on threads of their own, so
    /// that what they time is the server, not this process's scheduling of its other tasks.
    static func blockingCall(
        port: Int,
        _ method: String,
        _ target: String,
        body: String? = nil,
        timeout: Duration = .seconds(20)
    ) throws -> Reply {
        let start = ContinuousClock.now
        let raw = try BlockingSocket.exchange(
            port: port,
            self.request(method, target, body: body.map { Array($0.utf8) }),
            timeout: timeout
        )
        return self.parse(raw, elapsed: ContinuousClock.now - start)
    }

    /// Sends `bytes` (while reading, so a server that answers before the whole body is sent is heard), then
    /// reads until the server closes. Throws when that takes longer than `timeout`.
    static func exchange(port: Int, _ bytes: [UInt8], timeout: Duration = .seconds(20)) async throws -> Reply {
        let start = ContinuousClock.now
        let requestLine = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\r") }.prefix(100), as: UTF8.self)
        let raw = try await withDeadline(timeout, "an answer to \(requestLine) on port \(port)") {
            let connection = try await TCPTestClient.connect(port: port)
            return try await connection.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Void.self, returning: [UInt8].self) { group in
                    group.addTask {
                        var offset = 0
                        while offset < bytes.count {
                            let end = min(offset + 64 * 1024, bytes.count)
                            // The server may answer and close before reading it all (the 413 case).
                            do { try await outbound.write(ByteBuffer(bytes: bytes[offset..<end])) } catch { return }
                            offset = end
                        }
                    }
                    var received: [UInt8] = []
                    do {
                        for try await buffer in inbound {
                            received.append(contentsOf: buffer.readableBytesView)
                        }
                    } catch {
                        // A reset after the answer: keep what arrived.
                    }
                    group.cancelAll()
                    return received
                }
            }
        }
        return self.parse(raw, elapsed: ContinuousClock.now - start)
    }

    static func parse(_ raw: [UInt8], elapsed: Duration) -> Reply {
        guard let end = raw.firstRange(of: Array("\r\n\r\n".utf8)) else {
            return Reply(status: nil, head: String(decoding: raw, as: UTF8.self), body: [], elapsed: elapsed)
        }
        let head = String(decoding: raw[..<end.lowerBound], as: UTF8.self)
        let statusLine = head.prefix { $0 != "\r" }.split(separator: " ")
        let status = statusLine.count >= 2 && statusLine[0].hasPrefix("HTTP/") ? Int(statusLine[1]) : nil
        return Reply(status: status, head: head, body: Array(raw[end.upperBound...]), elapsed: elapsed)
    }
}

/// Runs `operation`, throwing when it has not finished within `timeout` (it is then cancelled).
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    _ what: @autoclosure () -> String,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let description = what()
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TestFailure("no outcome within \(timeout): \(description)")
        }
        return value
    }
}

// MARK: - Verifiable streams

/// A seeded stream of bytes made of whole 8-byte words, so that a reader can check any prefix of it however
/// the bytes were chunked on the way (SplitMix64.bytes fills 8 bytes per word, in host byte order).
struct WordStream {
    private var generator: SplitMix64
    private(set) var produced = 0

    init(seed: UInt64) {
        self.generator = SplitMix64(seed: seed)
    }

    mutating func next(words: Int) -> [UInt8] {
        self.produced += words * 8
        return self.generator.bytes(words * 8)
    }
}

/// Checks received bytes against the `WordStream` of the same seed: any changed, lost, duplicated or
/// reordered byte shows as a mismatch, with its offset.
struct WordVerifier {
    private var expected: SplitMix64
    private var carry = ByteBuffer()
    private(set) var verified = 0
    private(set) var mismatchOffset: Int?

    init(seed: UInt64) {
        self.expected = SplitMix64(seed: seed)
    }

    var received: Int { self.verified + self.carry.readableBytes }

    /// Returns false once a mismatch was found.
    mutating func consume(_ buffer: ByteBuffer) -> Bool {
        guard self.mismatchOffset == nil else { return false }
        var buffer = buffer
        self.carry.writeBuffer(&buffer)
        while let word = self.carry.readInteger(endianness: .host, as: UInt64.self) {
            guard word == self.expected.next() else {
                self.mismatchOffset = self.verified
                return false
            }
            self.verified += 8
        }
        self.carry.discardReadBytes()
        return true
    }

    /// Checks a trailing partial word (a connection cut mid-word) against the start of the next word.
    mutating func finish() -> Bool {
        guard self.mismatchOffset == nil else { return false }
        let tail = self.carry.readableBytes
        guard tail > 0 else { return true }
        var word = self.expected.next()
        let matches = withUnsafeBytes(of: &word) { expected in
            self.carry.withUnsafeReadableBytes { received in
                received.elementsEqual(expected.prefix(tail))
            }
        }
        if !matches { self.mismatchOffset = self.verified }
        return matches
    }
}
