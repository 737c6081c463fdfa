import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A server under test, run as a separate process so its event loops never share threads with the load
/// generator and its memory can be read on its own from /proc.
final class ServerProcess: Sendable {
    let path: String
    let pid: pid_t
    let adminPort: Int
    let logPath: String
    let admin: AdminClient
    /// The exit status once reaped; waitpid reaps only once, so the answer is kept.
    private let exitStatus = NIOLockedValueBox<Int32?>(nil)

    private init(path: String, pid: pid_t, adminPort: Int, logPath: String, admin: AdminClient) {
        self.path = path
        self.pid = pid
        self.adminPort = adminPort
        self.logPath = logPath
        self.admin = admin
    }

    /// Starts `path -host 127.0.0.1 -port P` on a free port and waits until `GET /version` answers.
    /// A port taken between choosing it and the server binding it is retried with another.
    static func start(path: String, group: any EventLoopGroup) async throws -> ServerProcess {
        var lastError: (any Error)?
        for attempt in 1...3 {
            let port = try freeLoopbackPort()
            let logPath = "/tmp/toxiproxy-bench-\(getpid())-\(port).log"
            let pid = try spawn(path: path, arguments: ["-host", "127.0.0.1", "-port", "\(port)"], logPath: logPath)
            ChildRegistry.add(pid)
            let server = ServerProcess(
                path: path,
                pid: pid,
                adminPort: port,
                logPath: logPath,
                admin: AdminClient(group: group, port: port)
            )
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                lastError = error
                await server.stop()
                if attempt < 3 {
                    progress("server start attempt \(attempt) failed: \(error); retrying")
                }
            }
        }
        throw lastError ?? BenchmarkError("could not start \(path)")
    }

    private func waitUntilReady() async throws {
        let deadline = nowNanos() + 20_000_000_000
        while nowNanos() < deadline {
            if let status = self.reap(blocking: false) {
                throw BenchmarkError(
                    "\(self.path) \(describeWaitStatus(status)) before answering; log:\n\(self.logTail())"
                )
            }
            if let response = try? await self.admin.request("GET", "/version", timeout: .seconds(1)),
                response.status == 200
            {
                return
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw BenchmarkError("\(self.path) did not answer GET /version within 20 s; log:\n\(self.logTail())")
    }

    /// Resident set size in bytes (VmRSS from /proc/PID/status).
    func residentBytes() throws -> Int {
        let text = try readSmallFile("/proc/\(self.pid)/status")
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.dropFirst("VmRSS:".count).filter(\.isNumber)
            if let kibibytes = Int(digits) {
                return kibibytes * 1024
            }
        }
        throw BenchmarkError("no VmRSS in /proc/\(self.pid)/status")
    }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s; always reaps the child.
    func stop() async {
        if self.reap(blocking: false) == nil {
            kill(self.pid, SIGTERM)
            let deadline = nowNanos() + 5_000_000_000
            while self.reap(blocking: false) == nil, nowNanos() < deadline {
                try? await Task.sleep(nanoseconds: 20_000_000)
            }
            if self.reap(blocking: false) == nil {
                progress("\(self.path) ignored SIGTERM for 5 s; killing it")
                kill(self.pid, SIGKILL)
                _ = self.reap(blocking: true)
            }
        }
        ChildRegistry.remove(self.pid)
        unlink(self.logPath)
    }

    /// The exit status if the child has exited, nil while it runs.
    private func reap(blocking: Bool) -> Int32? {
        self.exitStatus.withLockedValue { exitStatus in
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            let result = waitpid(self.pid, &status, blocking ? 0 : WNOHANG)
            if result == self.pid || (result == -1 && errno == ECHILD) {
                exitStatus = status
            }
            return exitStatus
        }
    }

    func logTail() -> String {
        guard let text = try? readSmallFile(self.logPath), !text.isEmpty else { return "(empty)" }
        return text.split(separator: "\n").suffix(10).joined(separator: "\n")
    }
}

/// "exited with code 1" or "was killed by signal 9", from a waitpid status (the macros are not
/// imported into Swift).
private func describeWaitStatus(_ status: Int32) -> String {
    let signal = status & 0x7f
    return signal == 0 ? "exited with code \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
}

/// Children to terminate if the benchmark itself is interrupted or crashes, so no server outlives it.
/// A fixed C array, because a signal handler may not allocate or take locks.
enum ChildRegistry {
    private static let capacity = 16
    private nonisolated(unsafe) static let slots: UnsafeMutablePointer<pid_t> = {
        let slots = UnsafeMutablePointer<pid_t>.allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        return slots
    }()
    private static let lock = NIOLock()

    static func add(_ pid: pid_t) {
        lock.withLock {
            for index in 0..<capacity where slots[index] == 0 {
                slots[index] = pid
                return
            }
        }
    }

    static func remove(_ pid: pid_t) {
        lock.withLock {
            for index in 0..<capacity where slots[index] == pid {
                slots[index] = 0
            }
        }
    }

    /// Installs handlers that terminate every registered child, then let the signal take its default course.
    static func installSignalHandlers() {
        _ = slots
        for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP] {
            signal(signalNumber) { received in
                // Only async-signal-safe calls here: write, kill, signal, raise.
                let message: StaticString = "Benchmarks: stopped by a signal; terminating the servers under test\n"
                _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
                for index in 0..<ChildRegistry.capacity where ChildRegistry.slots[index] > 0 {
                    kill(ChildRegistry.slots[index], SIGKILL)
                }
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}

private func spawn(path: String, arguments: [String], logPath: String) throws -> pid_t {
    guard access(path, X_OK) == 0 else {
        throw BenchmarkError(
            "server binary \(path) is missing or not executable; "
                + "build it with `swift build -c release --product toxiproxy-server` or pass --server PATH"
        )
    }
    // Per-connection log lines (the reference logs every accept at info) would be measured too, so both
    // servers log warnings and errors only.
    var environment = currentEnvironment().filter { !$0.hasPrefix("LOG_LEVEL=") }
    environment.append("LOG_LEVEL=warn")
    return try spawnProcess([path] + arguments, outputPath: logPath, environment: environment)
}

/// Starts `argv` (`argv[0]` looked up on PATH unless it holds a slash) with standard input from /dev/null and
/// standard output and error to `outputPath`; this process's environment unless `environment` is given.
func spawnProcess(_ argv: [String], outputPath: String, environment: [String]? = nil) throws -> pid_t {
    #if canImport(Darwin)
    var actions: posix_spawn_file_actions_t? = nil
    #else
    var actions = posix_spawn_file_actions_t()
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let arguments = argv.map { strdup($0) } + [nil]
    let variables = environment.map { $0.map { strdup($0) } + [nil] }
    defer {
        for pointer in arguments + (variables ?? []) { free(pointer) }
    }
    var pid: pid_t = 0
    let code =
        if let variables {
            posix_spawnp(&pid, argv[0], &actions, nil, arguments, variables)
        } else {
            posix_spawnp(&pid, argv[0], &actions, nil, arguments, environ)
        }
    guard code == 0 else { throw BenchmarkError("posix_spawn \(argv[0]): \(String(cString: strerror(code)))") }
    return pid
}

private func currentEnvironment() -> [String] {
    var result: [String] = []
    var pointer = environ
    while let entry = pointer.pointee {
        result.append(String(cString: entry))
        pointer += 1
    }
    return result
}

/// A port that was free a moment ago: bind 127.0.0.1:0, read the port, close.
func freeLoopbackPort() throws -> Int {
    #if canImport(Glibc) || canImport(Musl)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw BenchmarkError("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
        }
    }
    guard bound else { throw BenchmarkError("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Reads a small text file whole (/proc files report size 0, so read until EOF).
func readSmallFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw BenchmarkError("open \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while bytes.count < 16 << 20 {
        let count = read(fd, &buffer, buffer.count)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Progress goes to standard error so standard output is only the table.
func progress(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
