import Foundation
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `toxiproxy-server` binary as a black box (spec §6): flags, config file, JSON logs on stdout,
/// `LOG_LEVEL`, and a clean exit on SIGTERM/SIGINT.
@Suite
struct ServerExecutableTests {
    @Test
    func versionFlagPrintsTheVersionAndExitsZero() async throws {
        let result = try await Self.runToCompletion(["-version"])
        #expect(result.status == 0)
        #expect(result.stdout == "toxiproxy-server version 2.12.0\n")
    }

    @Test(arguments: ["-help", "--help", "-h"])
    func helpFlagPrintsUsageAndExitsZero(flag: String) async throws {
        let result = try await Self.runToCompletion([flag])
        #expect(result.status == 0)
        // Go's flag package writes the usage to stderr; accept either stream, the e2e test greps the text.
        #expect((result.stdout + result.stderr).contains("Usage of"), "\(result)")
        #expect((result.stdout + result.stderr).contains("-host"), "\(result)")
    }

    /// §6: Go prints `Usage of <argv0>:`, argv0 being the program path exactly as it was invoked.
    @Test
    func usageNamesTheProgramAsInvoked() async throws {
        let result = try await Self.runToCompletion(["-help"])
        let path = try ProductProcess.locate("toxiproxy-server").path
        #expect((result.stdout + result.stderr).hasPrefix("Usage of \(path):\n"), "\(result)")
    }

    @Test(arguments: [["-nope"], ["-host"], ["-version=maybe"]])
    func badFlagsExitTwoWithTheErrorAndUsage(arguments: [String]) async throws {
        let result = try await Self.runToCompletion(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains("Usage of"), "\(result)")
        if arguments == ["-nope"] {
            #expect(result.stderr.contains("flag provided but not defined: -nope"), "\(result)")
        }
    }

    @Test
    func configFileProxiesExistWhenTheAPIAnswers() async throws {
        let config = """
            [{"name":"alpha","listen":"127.0.0.1:0","upstream":"localhost:19999"},
             {"name":"beta","listen":"127.0.0.1:0","upstream":"localhost:19998","enabled":false,
              "toxics":[{"type":"noop"}]}]
            """
        try await Self.withRunningServer(config: config) { process in
            let listing = try await process.admin.get("/proxies")
            #expect(listing.status == 200)
            let proxies = try Self.jsonObject(listing.body)
            #expect(proxies.keys.sorted() == ["alpha", "beta"])
            let alpha = proxies["alpha"] as? [String: Any]
            let alphaPort = try #require(Self.port(of: alpha?["listen"] as? String))
            #expect(alphaPort != 0)
            // §6: the file has the `/populate` format, so the objects are the usual proxy objects.
            let expected =
                #"{"alpha":{"name":"alpha","listen":"127.0.0.1:\#(alphaPort)","upstream":"localhost:19999","#
                + #""enabled":true,"Logger":{},"toxics":[]},"beta":{"name":"beta","listen":"127.0.0.1:0","#
                + #""upstream":"localhost:19998","enabled":false,"Logger":{},"toxics":[]}}"#
            #expect(listing.body == expected)
            #expect(await Loopback.canConnect(port: alphaPort), "alpha must be listening")
        }
    }

    @Test
    func configFileStopsAtTheFirstFailingEntryAndTheServerStillStarts() async throws {
        try await Loopback.withOccupiedPort { occupied in
            let config = """
                [{"name":"good","listen":"127.0.0.1:0","upstream":"localhost:19999"},
                 {"name":"bad","listen":"127.0.0.1:\(occupied)","upstream":"localhost:19999"},
                 {"name":"never","listen":"127.0.0.1:0","upstream":"localhost:19999"}]
                """
            try await Self.withRunningServer(config: config) { process in
                let proxies = try Self.jsonObject(try await process.admin.get("/proxies").body)
                #expect(proxies.keys.sorted() == ["good"])
                let logged = try await Self.eventually {
                    process.logLines().contains { ($0["message"] as? String) == "Failed to populate proxies from file" }
                }
                #expect(logged, "the failure is logged: \(process.stdout)")
            }
        }
    }

    /// §6: a missing file is logged (the reference logs it at error level) and the server starts anyway.
    @Test
    func missingConfigFileIsLoggedAndTheServerStarts() async throws {
        try await Self.withRunningServer(configPath: "/nonexistent/toxiproxy.json") { process in
            #expect(try await process.admin.get("/proxies").body == "{}")
            let logged = try await Self.eventually { process.logLines().contains { $0["level"] as? String == "error" } }
            #expect(logged, "\(process.stdout)")
        }
    }

    @Test
    func malformedConfigFileIsLoggedAndTheServerStarts() async throws {
        try await Self.withRunningServer(config: #"[{"name":"half","#) { process in
            #expect(try await process.admin.get("/proxies").body == "{}")
            let logged = try await Self.eventually {
                process.logLines().contains { ($0["message"] as? String) == "Failed to populate proxies from file" }
            }
            #expect(logged, "\(process.stdout)")
        }
    }

    @Test
    func stdoutIsOneJSONObjectPerLineWithLevelTimeAndMessage() async throws {
        let config = #"[{"name":"logged","listen":"127.0.0.1:0","upstream":"localhost:19999"}]"#
        let stdout = try await Self.withRunningServer(config: config) { process in
            #expect(try await process.admin.get("/proxies/logged").status == 200)
            try await process.stop(signal: SIGTERM)
            return process.stdout
        }
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(!lines.isEmpty, "the server logged nothing")
        #expect(stdout.hasSuffix("\n"))
        for line in lines {
            let object = try? Self.jsonObject(String(line))
            #expect(object != nil, "not a JSON object: \(line)")
            guard let object else { continue }
            let levels = ["trace", "debug", "info", "warn", "error", "fatal", "panic"]
            #expect(levels.contains(object["level"] as? String ?? ""), "\(line)")
            #expect(object["message"] is String, "\(line)")
            // §6: `time` is RFC 3339 in UTC.
            let time = object["time"] as? String ?? ""
            #expect(Self.isRFC3339UTC(time), "\(line)")
        }
    }

    @Test
    func unknownLogLevelIsLoggedAndTheServerKeepsRunning() async throws {
        try await Self.withRunningServer(environment: ["LOG_LEVEL": "bogus"]) { process in
            let logged = try await Self.eventually {
                process.logLines().contains { line in
                    line["message"] as? String == #"unknown LOG_LEVEL value: "bogus""#
                        && line["level"] as? String == "error"
                }
            }
            #expect(logged, "\(process.stdout)")
            #expect(try await process.admin.get("/version").status == 200)
            #expect(process.isRunning)
        }
    }

    /// Without `LOG_LEVEL` the default is info (a deliberate deviation: the reference defaults to debug, which
    /// logs every admin request and accepted client); `LOG_LEVEL=debug` brings those lines back.
    @Test
    func withoutLogLevelInfoIsTheDefaultAndDebugIsOptIn() async throws {
        try await Self.withRunningServer { process in
            #expect(try await process.admin.get("/proxies").status == 200)
            let started = try await Self.eventually(timeout: .seconds(2)) {
                process.logLines().contains { $0["message"] as? String == "Starting Toxiproxy" }
            }
            #expect(started, "no info line in \(process.stdout)")
            #expect(!process.logLines().contains { $0["level"] as? String == "debug" }, "\(process.stdout)")
        }
        try await Self.withRunningServer(environment: ["LOG_LEVEL": "debug"]) { process in
            #expect(try await process.admin.get("/proxies").status == 200)
            let logged = try await Self.eventually(timeout: .seconds(2)) {
                process.logLines().contains { $0["level"] as? String == "debug" }
            }
            #expect(logged, "no debug line in \(process.stdout)")
        }
    }

    @Test
    func logLevelErrorSuppressesInfoAndDebug() async throws {
        let config = #"[{"name":"quiet","listen":"127.0.0.1:0","upstream":"localhost:19999"}]"#
        let stdout = try await Self.withRunningServer(config: config, environment: ["LOG_LEVEL": "error"]) { process in
            #expect(try await process.admin.get("/proxies").status == 200)
            try await process.stop(signal: SIGTERM)
            return process.stdout
        }
        for line in stdout.split(separator: "\n") {
            let level = (try? Self.jsonObject(String(line)))?["level"] as? String
            #expect(level == "error" || level == "fatal" || level == "panic", "\(line)")
        }
    }

    /// §6: SIGINT/SIGTERM shut down gracefully with exit code 0, and every proxy listener is closed.
    @Test(arguments: [SIGTERM, SIGINT])
    func signalExitsZeroAndFreesTheListeners(signal: Int32) async throws {
        let config = #"[{"name":"bye","listen":"127.0.0.1:0","upstream":"localhost:19999"}]"#
        let (proxyPort, adminPort) = try await Self.withRunningServer(config: config) { process in
            let proxy = try Self.jsonObject(try await process.admin.get("/proxies/bye").body)
            let port = try #require(Self.port(of: proxy["listen"] as? String))
            #expect(await Loopback.canConnect(port: port))
            let started = ContinuousClock.now
            try await process.stop(signal: signal, within: .seconds(5))
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(process.terminationReason == .exit)
            #expect(process.exitStatus == 0)
            return (port, process.admin.port)
        }
        #expect(await Loopback.canBind(port: proxyPort), "the proxy port must be free after exit")
        #expect(await Loopback.canBind(port: adminPort), "the admin port must be free after exit")
    }
}

// MARK: - Helpers

extension ServerExecutableTests {
    /// A started server process (its output read from files while it runs) and a client of its admin API.
    fileprivate struct ServerProcess: Sendable {
        let product: ProductProcess
        let admin: AdminClient

        var stdout: String { self.product.stdout }
        var stderr: String { self.product.stderr }
        var isRunning: Bool { self.product.isRunning }
        var exitStatus: Int32 { self.product.exitStatus }
        var terminationReason: Process.TerminationReason { self.product.terminationReason }

        /// Every complete stdout line that is a JSON object.
        func logLines() -> [[String: Any]] {
            self.stdout.split(separator: "\n").compactMap { try? ServerExecutableTests.jsonObject(String($0)) }
        }

        /// Sends `signal` and waits for the exit, failing when it does not come within `limit`.
        func stop(signal: Int32, within limit: Duration = .seconds(5)) async throws {
            try await self.product.stop(signal: signal, within: limit)
        }
    }

    /// Runs the server with `arguments` until it exits by itself (flags that print and exit).
    fileprivate static func runToCompletion(_ arguments: [String]) async throws -> ProductProcess.Completed {
        // A known environment: the caller's LOG_LEVEL must not leak into tests about it.
        try await ProductProcess.runToCompletion("toxiproxy-server", arguments, unsetting: ["LOG_LEVEL"])
    }

    /// Starts the server on a free admin port with an optional config file, waits until the API answers, and
    /// kills it after `body` if it is still running. Retries with another port if the port was taken meanwhile.
    fileprivate static func withRunningServer<T: Sendable>(
        config: String? = nil,
        configPath: String? = nil,
        environment: [String: String] = [:],
        _ body: (ServerProcess) async throws -> T
    ) async throws -> T {
        for _ in 0..<3 {
            let port = try await Loopback.freePort()
            var arguments = ["-host", "127.0.0.1", "-port", "\(port)"]
            let product = try ProductProcess.start(
                "toxiproxy-server",
                environment: environment,
                unsetting: ["LOG_LEVEL"]
            ) { directory in
                if let configPath {
                    arguments += ["-config", configPath]
                } else if let config {
                    let file = directory.appendingPathComponent("config.json")
                    try Data(config.utf8).write(to: file)
                    arguments += ["-config", file.path]
                }
                return arguments
            }
            defer { product.cleanUp() }
            let process = ServerProcess(product: product, admin: AdminClient(port: port))
            let ready = try await Self.eventually(timeout: .seconds(10)) {
                guard process.isRunning else { return true }
                return (try? await process.admin.get("/version").status) == 200
            }
            guard ready else { throw TestFailure("the admin API did not answer within 10 s: \(process.stdout)") }
            guard process.isRunning else {
                // Most likely the port was taken between picking and binding it; try another one.
                continue
            }
            return try await body(process)
        }
        throw TestFailure("the server exited at start three times")
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
    fileprivate static func eventually(
        timeout: Duration = .seconds(5),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    fileprivate static func jsonObject(_ text: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        guard let object = value as? [String: Any] else { throw TestFailure("not a JSON object: \(text)") }
        return object
    }

    fileprivate static func port(of listen: String?) -> Int? {
        guard let listen, let colon = listen.lastIndex(of: ":") else { return nil }
        return Int(listen[listen.index(after: colon)...])
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    fileprivate static func isRFC3339UTC(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if formatter.date(from: text) != nil { return text.hasSuffix("Z") }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) != nil && text.hasSuffix("Z")
    }
}
