import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A built executable of this package (`toxiproxy-server`, `toxictl`) run as a black box: its standard output
/// and error go to files, so a test can read them while it runs, wait for a line, signal it, and wait for its
/// exit with a deadline. A process still running at clean-up is killed.
public struct ProductProcess: Sendable {
    /// The outcome of a run to completion.
    public struct Completed: Sendable, CustomStringConvertible {
        public var status: Int32
        /// Whether the process ended by an uncaught signal (then `status` is the signal number).
        public var signalled: Bool
        public var stdout: String
        public var stderr: String

        public var description: String {
            "\(self.signalled ? "signal" : "exit") \(self.status), stdout: \(self.stdout), stderr: \(self.stderr)"
        }
    }

    public let process: Process
    /// A fresh temporary directory holding `stdout` and `stderr`, and any file the caller put there.
    public let directory: URL
    public let arguments: [String]

    public var stdout: String { Self.read(self.directory.appendingPathComponent("stdout")) }
    public var stderr: String { Self.read(self.directory.appendingPathComponent("stderr")) }
    public var isRunning: Bool { self.process.isRunning }
    public var processIdentifier: Int32 { self.process.processIdentifier }
    /// The exit status, or the signal number when `terminationReason` is `.uncaughtSignal`; only valid once
    /// the process has exited.
    public var exitStatus: Int32 { self.process.terminationStatus }
    public var terminationReason: Process.TerminationReason { self.process.terminationReason }

    // MARK: Locating a product

    /// The built product `name`: next to the running test bundle (the products directory), else in
    /// `.build/debug` of this package.
    public static func locate(_ name: String) throws -> URL {
        var directories: [URL] = []
        let candidates = CommandLine.arguments + Bundle.allBundles.map(\.bundlePath) + [Bundle.main.bundlePath]
        for argument in candidates where argument.contains(".xctest") {
            // Linux: `…/debug/X.xctest` is the test executable; macOS: `…/debug/X.xctest/Contents/MacOS/X`.
            var url = URL(fileURLWithPath: argument).standardizedFileURL
            while url.pathComponents.count > 1 && !url.lastPathComponent.hasSuffix(".xctest") {
                url.deleteLastPathComponent()
            }
            directories.append(url.deletingLastPathComponent())
        }
        directories.append(Self.packageRoot.appendingPathComponent(".build/debug"))
        for directory in directories {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.standardizedFileURL }
        }
        throw TestFailure(
            "\(name) not found (build it with `swift build --build-tests`); looked in "
                + directories.map(\.path).joined(separator: ", ")
        )
    }

    /// The root of this package (this file is `Tests/ToxiproxyTestSupport/ProductProcess.swift`).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    // MARK: Starting

    /// Starts `product` with `arguments`.
    /// - Parameters:
    ///   - executable: the binary to run instead of the product built with the tests (a release build).
    ///   - environment: variables set on top of the test's own environment.
    ///   - unsetting: variables of the test's environment removed first (so that, say, a `LOG_LEVEL` of the
    ///     caller cannot leak into a test about it); `environment` may set them again.
    public static func start(
        _ product: String,
        _ arguments: [String],
        executable: URL? = nil,
        environment: [String: String] = [:],
        unsetting: Set<String> = []
    ) throws -> ProductProcess {
        try Self.start(product, executable: executable, environment: environment, unsetting: unsetting) { _ in
            arguments
        }
    }

    /// Starts `product` with the arguments `makeArguments` returns; it gets the process's directory first,
    /// to write files (a config file) the arguments name.
    public static func start(
        _ product: String,
        executable: URL? = nil,
        environment: [String: String] = [:],
        unsetting: Set<String> = [],
        makeArguments: (URL) throws -> [String]
    ) throws -> ProductProcess {
        let executable = try executable ?? Self.locate(product)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(product)-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        for url in [stdoutURL, stderrURL] {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw TestFailure("cannot create \(url.path)")
            }
        }
        let arguments: [String]
        do {
            arguments = try makeArguments(directory)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        for name in unsetting { inherited[name] = nil }
        process.environment = inherited.merging(environment) { _, new in new }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        return ProductProcess(process: process, directory: directory, arguments: arguments)
    }

    /// Runs `product` until it exits by itself, failing when it has not within `limit` (it is then killed).
    public static func runToCompletion(
        _ product: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        unsetting: Set<String> = [],
        within limit: Duration = .seconds(10)
    ) async throws -> Completed {
        let process = try Self.start(product, arguments, environment: environment, unsetting: unsetting)
        defer { process.cleanUp() }
        guard try await process.waitForExit(within: limit) else {
            throw TestFailure(
                "\(product) \(arguments) did not exit within \(limit): stdout: \(process.stdout) stderr: \(process.stderr)"
            )
        }
        return process.completed
    }

    /// Starts `product`, runs `body` with it, and cleans up afterwards (killing it if still running),
    /// whatever happens.
    public static func withProcess<T>(
        _ product: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        unsetting: Set<String> = [],
        _ body: (ProductProcess) async throws -> T
    ) async throws -> T {
        let process = try Self.start(product, arguments, environment: environment, unsetting: unsetting)
        defer { process.cleanUp() }
        return try await body(process)
    }

    // MARK: While it runs

    /// The outcome, once the process has exited.
    public var completed: Completed {
        Completed(
            status: self.exitStatus,
            signalled: self.terminationReason == .uncaughtSignal,
            stdout: self.stdout,
            stderr: self.stderr
        )
    }

    /// Waits until the process has exited; returns whether it did within `limit`.
    public func waitForExit(within limit: Duration = .seconds(5)) async throws -> Bool {
        try await Self.poll(within: limit) { !self.process.isRunning }
    }

    /// Waits until `condition` holds for the standard output read so far; returns that output, or nil when it
    /// did not hold within `limit` (or the process exited without it).
    public func waitForStdout(
        within limit: Duration = .seconds(5),
        until condition: (String) -> Bool
    ) async throws -> String? {
        var matched: String?
        _ = try await Self.poll(within: limit) {
            let running = self.process.isRunning
            let output = self.stdout
            if condition(output) {
                matched = output
                return true
            }
            return !running
        }
        return matched
    }

    /// Sends `signal` to the process.
    public func send(signal: Int32) {
        kill(self.process.processIdentifier, signal)
    }

    /// Sends `signal` and waits for the exit, failing when it does not come within `limit`.
    public func stop(signal: Int32, within limit: Duration = .seconds(5)) async throws {
        self.send(signal: signal)
        guard try await self.waitForExit(within: limit) else {
            throw TestFailure("no exit within \(limit) of signal \(signal)")
        }
    }

    /// Kills the process if it is still running (only ever one a test started) and removes its files.
    public func cleanUp() {
        // No wait after the kill: Foundation reaps the child, and the files can go while it dies.
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: self.directory)
    }

    // MARK: Helpers

    private static func read(_ url: URL) -> String {
        (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Polls `condition` every 10 ms until it holds or `limit` passes; returns whether it held.
    private static func poll(within limit: Duration, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try condition()
    }
}

/// Ports on 127.0.0.1, for tests that start servers as separate processes.
public enum Loopback {
    /// A port the kernel just handed out on 127.0.0.1 and that is free again.
    public static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    /// Whether a listener could bind `port` on 127.0.0.1 now (with SO_REUSEADDR, as servers bind).
    public static func canBind(port: Int) async -> Bool {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: port)
                .get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted now.
    public static func canConnect(port: Int) async -> Bool {
        do {
            let connection = try await TCPTestClient.connect(port: port)
            try? await connection.channel.close()
            return true
        } catch {
            return false
        }
    }

    /// Holds a port on 127.0.0.1 that is bound but not listening for the duration of `body`: connections to it
    /// are refused, and no other socket can take it meanwhile (a port merely found free can be handed to the
    /// next listener of a parallel test at once).
    public static func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
        #if canImport(Glibc) || canImport(Musl)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else { throw TestFailure("bind 127.0.0.1:0: errno \(errno)") }
        return try await body(Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Holds a port on 127.0.0.1 with a real listener for the duration of `body`.
    public static func withOccupiedPort<T: Sendable>(_ body: (Int) async throws -> T) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        do {
            let result = try await body(channel.localAddress!.port!)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }
}
