import Foundation
import NIOCore
import NIOPosix
import Testing
import ToxiproxyTestSupport

// Shared by the toxictl black-box tests: running the built binary, a proxy created through it on a real
// server (in-process, or `toxictl serve`), the server's view of that proxy, and real traffic through it.

/// The built `toxictl`, run as a subprocess with a known environment.
enum Toxictl {
    static let defaultProxy = "api_groundlight_ai"

    /// A fixed help width, and none of the caller's target or log settings.
    static let environment = ["COLUMNS": "100"]
    static let unsetting: Set<String> = ["TOXIPROXY_URL", "LOG_LEVEL", "DEPLOYMENT_NAMESPACE", "KUBECONFIG"]

    /// Runs `toxictl arguments` to completion (killed and failing after `limit`).
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        within limit: Duration = .seconds(10)
    ) async throws -> ProductProcess.Completed {
        try await TimingGate.shared.withShared {
            try await ProductProcess.runToCompletion(
                "toxictl",
                arguments,
                environment: Self.environment.merging(environment) { _, new in new },
                unsetting: Self.unsetting,
                within: limit
            )
        }
    }

    /// Starts `toxictl serve` on an ephemeral port of 127.0.0.1 and returns it with the admin URL it printed;
    /// the caller cleans it up.
    static func serve(_ extra: [String] = []) async throws -> (ProductProcess, String) {
        let process = try await Self.start(["serve", "--host", "127.0.0.1", "--port", "0"] + extra)
        let prefix = "serving the Toxiproxy admin API on "
        let output = try await process.waitForStdout(within: .seconds(10)) { $0.contains(prefix) }
        guard let output, let line = output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            process.cleanUp()
            throw TestFailure("no admin URL line: \(process.stdout) \(process.stderr)")
        }
        let url = line.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
        return (process, url)
    }

    /// Starts `toxictl arguments` in the background; the caller cleans it up.
    static func start(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProductProcess {
        try await TimingGate.shared.withShared {
            try ProductProcess.start(
                "toxictl",
                arguments,
                environment: Self.environment.merging(environment) { _, new in new },
                unsetting: Self.unsetting
            )
        }
    }
}

/// Paces the toxictl processes of this target: at most `permits` runs (or starts of background processes) at
/// once, since each start costs tens of milliseconds of CPU and dozens of tests start them in parallel on
/// machines with few cores; and a test that measures a schedule to the tens of milliseconds takes every
/// permit, so that no other test of this target starts or runs a toxictl command meanwhile (background
/// processes started earlier, such as a flap or a server, keep running). Its own processes pass through. A
/// waiting exclusive holder goes before later shared ones, and waiters are resumed at most `permits` at a
/// time, never as one burst.
final class TimingGate: @unchecked Sendable {
    static let shared = TimingGate(permits: 6)

    @TaskLocal static var holdsExclusively = false

    private let permits: Int
    private let lock = NSLock()
    private var available: Int
    private var exclusivelyHeld = false
    private var waitingExclusive: [CheckedContinuation<Void, Never>] = []
    private var waitingShared: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) {
        self.permits = permits
        self.available = permits
    }

    /// Runs `body` holding one permit.
    func withShared<T>(_ body: () async throws -> T) async throws -> T {
        if Self.holdsExclusively { return try await body() }
        await withCheckedContinuation { continuation in
            self.lock.withLock {
                if !self.exclusivelyHeld && self.waitingExclusive.isEmpty && self.available > 0 {
                    self.available -= 1
                    continuation.resume()
                } else {
                    self.waitingShared.append(continuation)
                }
            }
        }
        defer {
            self.lock.withLock {
                self.available += 1
                self.grant()
            }
        }
        return try await body()
    }

    /// Runs `body` holding every permit.
    func withExclusive<T>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { continuation in
            self.lock.withLock {
                if !self.exclusivelyHeld && self.available == self.permits {
                    self.available = 0
                    self.exclusivelyHeld = true
                    continuation.resume()
                } else {
                    self.waitingExclusive.append(continuation)
                }
            }
        }
        defer {
            self.lock.withLock {
                self.exclusivelyHeld = false
                self.available = self.permits
                self.grant()
            }
        }
        return try await Self.$holdsExclusively.withValue(true) { try await body() }
    }

    /// Hands free permits to waiters; called with the lock held.
    private func grant() {
        if !self.waitingExclusive.isEmpty {
            guard self.available == self.permits else { return }
            self.available = 0
            self.exclusivelyHeld = true
            self.waitingExclusive.removeFirst().resume()
            return
        }
        while self.available > 0 && !self.waitingShared.isEmpty {
            self.available -= 1
            self.waitingShared.removeFirst().resume()
        }
    }
}

extension ProductProcess.Completed {
    var lines: [String] { self.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
    var firstLine: String { self.lines.first ?? "" }
    var exitedNormally: Bool { !self.signalled }

    /// Standard output as one JSON object, or nil when it is not exactly that.
    var jsonObject: [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(self.stdout.utf8)) as? [String: Any]
    }
}

// MARK: - The server's view of a proxy

/// A proxy as the server reports it (`GET /proxies/{name}`), in a form tests compare.
struct ProxyState: Equatable, Sendable, CustomStringConvertible {
    struct ToxicState: Equatable, Sendable {
        var name: String
        var type: String
        var stream: String
        var toxicity: Double
        var attributes: [String: Int]
    }

    var name: String
    var listen: String
    var upstream: String
    var enabled: Bool
    /// In the server's order.
    var toxics: [ToxicState]

    var toxicNames: Set<String> { Set(self.toxics.map(\.name)) }
    var listenPort: Int? { self.listen.split(separator: ":").last.flatMap { Int($0) } }

    func toxic(_ name: String) -> ToxicState? { self.toxics.first { $0.name == name } }

    var description: String {
        let toxics = self.toxics.map { "\($0.name)(\($0.type) \($0.stream) \($0.attributes))" }
        return "\(self.name) enabled=\(self.enabled) listen=\(self.listen) upstream=\(self.upstream) toxics=\(toxics)"
    }

    init(json object: [String: Any]) throws {
        guard let name = object["name"] as? String, let listen = object["listen"] as? String,
            let upstream = object["upstream"] as? String, let enabled = object["enabled"] as? Bool,
            let toxics = object["toxics"] as? [[String: Any]]
        else { throw TestFailure("not a proxy: \(object)") }
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
        self.toxics = try toxics.map { toxic in
            guard let name = toxic["name"] as? String, let type = toxic["type"] as? String,
                let stream = toxic["stream"] as? String, let toxicity = toxic["toxicity"] as? Double,
                let attributes = toxic["attributes"] as? [String: Any]
            else { throw TestFailure("not a toxic: \(toxic)") }
            return ToxicState(
                name: name,
                type: type,
                stream: stream,
                toxicity: toxicity,
                attributes: attributes.compactMapValues { $0 as? Int }
            )
        }
    }
}

// MARK: - A proxy created through toxictl

/// A server (in-process, or `toxictl serve`), an echo upstream, and the default proxy between them created by
/// `toxictl enable --listen 127.0.0.1:0 --upstream 127.0.0.1:<echo>`.
struct ProxyFixture: Sendable {
    /// The server's admin API, spoken to directly (not through toxictl) to see what the server has.
    let admin: AdminClient
    let echoPort: Int
    let proxyPort: Int
    var proxy: String { Toxictl.defaultProxy }
    var adminURL: String { "http://127.0.0.1:\(self.admin.port)" }

    /// Creates the proxy with `toxictl enable` on the server at `admin`.
    static func enable(admin: AdminClient, echoPort: Int) async throws -> ProxyFixture {
        let enable = try await Toxictl.run([
            "enable", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(echoPort)",
            "--admin-url", "http://127.0.0.1:\(admin.port)",
        ])
        guard enable.status == 0 else { throw TestFailure("toxictl enable failed: \(enable)") }
        let response = try await admin.get("/proxies/\(Toxictl.defaultProxy)")
        let state = try ProxyState(json: try response.jsonObject())
        guard let port = state.listenPort, port != 0 else { throw TestFailure("no listen port in \(state)") }
        return ProxyFixture(admin: admin, echoPort: echoPort, proxyPort: port)
    }

    /// Runs toxictl against this server: `--admin-url` is added (before a `--`, if any).
    func toxictl(
        _ arguments: String...,
        environment: [String: String] = [:],
        within limit: Duration = .seconds(10)
    ) async throws -> ProductProcess.Completed {
        try await Toxictl.run(self.targeted(arguments), environment: environment, within: limit)
    }

    /// Runs toxictl against this server and fails the test unless it exits 0.
    @discardableResult
    func succeed(
        _ arguments: String...,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ProductProcess.Completed {
        let result = try await Toxictl.run(self.targeted(arguments))
        try #require(
            result.status == 0 && result.exitedNormally,
            "toxictl \(arguments.joined(separator: " ")): \(result)",
            sourceLocation: sourceLocation
        )
        return result
    }

    func start(_ arguments: String...) async throws -> ProductProcess {
        try await Toxictl.start(self.targeted(arguments))
    }

    func targeted(_ arguments: [String]) -> [String] {
        var arguments = arguments
        let position = arguments.firstIndex(of: "--") ?? arguments.endIndex
        arguments.insert(contentsOf: ["--admin-url", self.adminURL], at: position)
        return arguments
    }

    /// The server's raw answer for the proxy (the exact bytes, for before/after comparisons).
    func rawState() async throws -> String {
        let response = try await self.admin.get("/proxies/\(self.proxy)")
        return "HTTP \(response.status) \(response.body)"
    }

    /// The proxy as the server has it; nil when it does not exist.
    func state() async throws -> ProxyState? {
        let response = try await self.admin.get("/proxies/\(self.proxy)")
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw TestFailure("GET /proxies/\(self.proxy): \(response)") }
        return try ProxyState(json: try response.jsonObject())
    }

    func requireState() async throws -> ProxyState {
        guard let state = try await self.state() else { throw TestFailure("proxy \(self.proxy) does not exist") }
        return state
    }

    /// `toxictl status -o json`, for comparing the whole state as toxictl reports it.
    func statusJSON() async throws -> String {
        let status = try await self.toxictl("status", "-o", "json")
        guard status.status == 0 else { throw TestFailure("status failed: \(status)") }
        return status.stdout
    }

    /// Adds a toxic that toxictl did not create, straight through the admin API.
    func addForeignToxic(_ json: String) async throws {
        let response = try await self.admin.post("/proxies/\(self.proxy)/toxics", json)
        guard response.status == 200 else { throw TestFailure("add toxic \(json): \(response)") }
    }
}

/// Runs `body` with a fresh in-process server, an echo upstream, and the proxy created by `toxictl enable`.
func withProxy<T: Sendable>(_ body: @Sendable (ProxyFixture) async throws -> T) async throws -> T {
    try await withEchoServer { echoPort in
        try await withTestServer { server in
            try await body(try await ProxyFixture.enable(admin: server.admin, echoPort: echoPort))
        }
    }
}

/// The same with the server in a process of its own (`toxictl serve`), for measurements that the test
/// process's other work (every in-process server shares its event loops) must not disturb.
func withServedProxy<T: Sendable>(_ body: @Sendable (ProxyFixture) async throws -> T) async throws -> T {
    try await withEchoServer { echoPort in
        let (serve, url) = try await Toxictl.serve()
        defer { serve.cleanUp() }
        guard let port = url.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw TestFailure("no port in \(url)")
        }
        return try await body(try await ProxyFixture.enable(admin: AdminClient(port: port), echoPort: echoPort))
    }
}

// MARK: - Traffic

enum Traffic {
    /// Sends 8 bytes on a new connection and returns the milliseconds until the whole echo arrived, or nil
    /// when the connection closed (or `limit` passed) first.
    static func roundTrip(port: Int, within limit: Duration = .seconds(5)) async throws -> Double? {
        let connection = try await TCPTestClient.connect(port: port)
        let channel = connection.channel
        // A stuck read ends when the channel closes, so the deadline closes it.
        let watchdog = Task {
            try await Task.sleep(for: limit)
            try? await channel.close()
        }
        defer { watchdog.cancel() }
        do {
            return try await connection.executeThenClose { inbound, outbound in
                let payload: [UInt8] = Array("toxictl!".utf8)
                let start = ContinuousClock.now
                try await outbound.write(ByteBuffer(bytes: payload))
                var received = 0
                for try await buffer in inbound {
                    received += buffer.readableBytes
                    if received >= payload.count { return milliseconds(since: start) }
                }
                return nil
            }
        } catch {
            return nil
        }
    }

    /// What happened on a new connection that sent 8 bytes and was watched for `window`.
    struct Watched: Sendable {
        var receivedBytes: Int
        /// Milliseconds from the send to the close, if the peer closed within the window.
        var closedAfter: Double?
    }

    /// Connects, sends 8 bytes, and watches the connection until it closes or `window` passes.
    static func watch(port: Int, for window: Duration) async throws -> Watched {
        let connection = try await TCPTestClient.connect(port: port)
        return try await connection.executeThenClose { inbound, outbound in
            let watcher = ConnectionWatcher(inbound)
            let start = ContinuousClock.now
            try await outbound.write(ByteBuffer(bytes: Array("toxictl!".utf8)))
            let closedAt = await watcher.waitForClose(timeout: window)
            let watched = Watched(
                receivedBytes: watcher.received.count,
                closedAfter: closedAt.map { instant in
                    let elapsed = instant - start
                    return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                }
            )
            await watcher.stop()
            return watched
        }
    }

    /// Opens a connection and runs `body` with a watcher of what arrives on it; closes it afterwards.
    static func withWatchedConnection<T: Sendable>(
        port: Int,
        _ body: (ConnectionWatcher) async throws -> T
    ) async throws -> T {
        let connection = try await TCPTestClient.connect(port: port)
        return try await connection.executeThenClose { inbound, _ in
            let watcher = ConnectionWatcher(inbound)
            do {
                let result = try await body(watcher)
                await watcher.stop()
                return result
            } catch {
                await watcher.stop()
                throw error
            }
        }
    }

    /// Whether a new connection to the proxy is refused now.
    static func refuses(port: Int) async -> Bool {
        !(await Loopback.canConnect(port: port))
    }
}

// MARK: - A listener that only counts connections

/// A TCP listener on 127.0.0.1 that accepts and counts connections and closes each at once: pointed to by
/// --admin-url, it proves that a command sent nothing (no connection) before rejecting its arguments.
final class ConnectionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var accepted = 0

    var count: Int { self.lock.withLock { self.accepted } }

    fileprivate func increment() { self.lock.withLock { self.accepted += 1 } }
}

func withConnectionCounter<T: Sendable>(_ body: (Int, ConnectionCounter) async throws -> T) async throws -> T {
    let counter = ConnectionCounter()
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            counter.increment()
            channel.close(promise: nil)
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    do {
        let result = try await body(channel.localAddress!.port!, counter)
        try await channel.close()
        return result
    } catch {
        try? await channel.close()
        throw error
    }
}

/// Polls `condition` every 10 ms until it holds or `limit` passes; returns whether it held.
func waitUntil(within limit: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
