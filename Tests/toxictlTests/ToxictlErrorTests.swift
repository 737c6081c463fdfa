import Testing
import ToxiproxyTestSupport

/// Failures a person can act on, and exit codes that tell the truth: 64 for arguments rejected before any
/// call, 1 for a failure, with the real cause on standard error.
@Suite
struct ToxictlErrorTests {
    // MARK: Arguments are validated before anything is sent

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        /// What the message on standard error must say.
        var message: String
        var testDescription: String { self.arguments.joined(separator: " ") }
    }

    static let invalidCases: [InvalidCase] = [
        InvalidCase(
            arguments: ["latency", "enable", "--", "-5"],
            message: "the latency must be 0 or more milliseconds (got -5)"
        ),
        InvalidCase(
            arguments: ["latency", "enable", "10", "--jitter", "-1"],
            message: "--jitter must be 0 or more milliseconds (got -1)"
        ),
        InvalidCase(
            arguments: ["latency", "enable", "10", "--direction", "sideways"],
            message: "'sideways' is invalid for '--direction"
        ),
        InvalidCase(arguments: ["latency", "enable", "ten"], message: "'ten'"),
        InvalidCase(
            arguments: ["timeout", "enable", "--timeout-ms", "-1"],
            message: "--timeout-ms must be 0 or more milliseconds (got -1)"
        ),
        InvalidCase(
            arguments: ["timeout", "enable", "--timeout-stream", "sideways"],
            message: "'sideways' is invalid for '--timeout-stream"
        ),
        InvalidCase(arguments: ["flap", "--up-ms", "-150"], message: "--up-ms and --down-ms must be more than 0"),
        InvalidCase(arguments: ["flap", "--down-ms", "0"], message: "--up-ms and --down-ms must be more than 0"),
        InvalidCase(
            arguments: ["flap", "--timeout-ms", "-1"],
            message: "--timeout-ms must be 0 or more milliseconds (got -1)"
        ),
        InvalidCase(arguments: ["flap", "--iterations", "-1"], message: "--iterations must be 0"),
        InvalidCase(arguments: ["flap", "--mode", "blackhole"], message: "'blackhole' is invalid for '--mode"),
        InvalidCase(
            arguments: ["flap", "--timeout-stream", "sideways"],
            message: "'sideways' is invalid for '--timeout-stream"
        ),
        InvalidCase(arguments: ["enable", "--listen", "nonsense"], message: "--listen must be host:port"),
        InvalidCase(arguments: ["enable", "--upstream", "example.com:99999"], message: "--upstream must be host:port"),
        InvalidCase(arguments: ["status", "-o", "yaml"], message: "'yaml' is invalid for '-o"),
        InvalidCase(arguments: ["status", "--proxy", ""], message: "--proxy must not be empty"),
        InvalidCase(
            arguments: ["latency", "enable", "10", "--latency-toxics", "only_one"],
            message: "--latency-toxics takes two different names"
        ),
        InvalidCase(
            arguments: ["reset", "--timeout-toxics", "same,same"],
            message: "--timeout-toxics takes two different names"
        ),
        InvalidCase(arguments: ["outage", "enable", "--bogus"], message: "Unknown option '--bogus'"),
    ]

    @Test(arguments: Self.invalidCases)
    func invalidArgumentsExit64BeforeAnyConnection(_ invalid: InvalidCase) async throws {
        try await withConnectionCounter { port, counter in
            var arguments = invalid.arguments
            arguments.insert(
                contentsOf: ["--admin-url", "http://127.0.0.1:\(port)"],
                at: arguments.firstIndex(of: "--") ?? arguments.endIndex
            )
            let result = try await Toxictl.run(arguments)
            #expect(result.status == 64 && result.exitedNormally, "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
            #expect(result.stderr.hasPrefix("Error: "), "\(result)")
            #expect(result.stderr.contains(invalid.message), "\(result)")
            // Watching a window: a connection made before the exit would be accepted within it.
            let connected = try await waitUntil(within: .milliseconds(200)) { counter.count > 0 }
            #expect(!connected, "\(counter.count) connection(s) reached the admin URL")
        }
    }

    /// The control for the test above: a valid command is seen by the counting listener.
    @Test
    func theConnectionCounterSeesAValidCommand() async throws {
        try await withConnectionCounter { port, counter in
            let process = try await Toxictl.start(["status", "--admin-url", "http://127.0.0.1:\(port)"])
            defer { process.cleanUp() }
            #expect(try await waitUntil(within: .seconds(5)) { counter.count > 0 })
        }
    }

    @Test
    func invalidArgumentsLeaveTheServerAsItWas() async throws {
        try await withProxy { fixture in
            try await fixture.succeed("latency", "enable", "100")
            let before = try await fixture.rawState()
            for invalid in Self.invalidCases {
                let result = try await Toxictl.run(fixture.targeted(invalid.arguments))
                #expect(result.status == 64, "\(invalid): \(result)")
            }
            let after = try await fixture.rawState()
            #expect(after == before)
            let proxies = try await fixture.admin.get("/proxies").jsonObject()
            #expect(proxies.keys.sorted() == [fixture.proxy], "\(proxies)")
        }
    }

    /// The way an operator writes a negative latency: as the argument itself, not after `--`.
    @Test
    func aNegativeLatencyArgumentIsRejectedAsNegative() async throws {
        try await withConnectionCounter { port, counter in
            let result = try await Toxictl.run(["latency", "enable", "-5", "--admin-url", "http://127.0.0.1:\(port)"])
            #expect(result.status == 64, "\(result)")
            #expect(result.stderr.contains("0 or more milliseconds"), "say what is wrong with -5: \(result.stderr)")
            #expect(counter.count == 0)
        }
    }

    @Test(arguments: ["ftp://127.0.0.1:8474", "ws://127.0.0.1:8474"])
    func anUnusableAdminURLIsRejectedWithAnExample(url: String) async throws {
        let result = try await Toxictl.run(["status", "--admin-url", url])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("is not an http:// or https:// admin URL"), "\(result)")
        #expect(result.stderr.contains("http://127.0.0.1:8474"), "\(result)")
    }

    @Test
    func anUnknownSubcommandIsAUsageError() async throws {
        let result = try await Toxictl.run(["blackhole"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("blackhole"), "\(result)")
    }

    // MARK: The server cannot be reached

    @Test(arguments: [
        ["status"],
        ["latency", "enable", "100"],
        ["outage", "enable"],
        ["flap", "--iterations", "1"],
    ])
    func anUnreachableServerFailsWithTheURLTriedAndWhatToDo(command: [String]) async throws {
        try await Loopback.withRefusingPort { port in
            let url = "http://127.0.0.1:\(port)"
            let result = try await Toxictl.run(command + ["--admin-url", url])
            #expect(result.status == 1 && result.exitedNormally, "\(result)")
            #expect(result.stderr.contains("cannot reach the Toxiproxy admin API at \(url)"), "\(result)")
            #expect(result.stderr.contains("connection refused"), "the real cause: \(result)")
            #expect(result.stderr.contains("toxictl serve"), "what to do: \(result)")
            if command != ["status"] {
                #expect(result.firstLine == "target: \(url) (--admin-url), proxy \(Toxictl.defaultProxy)", "\(result)")
            }
        }
    }

    // MARK: The proxy does not exist

    @Test(arguments: [
        ["latency", "enable", "100"],
        ["latency", "disable"],
        ["timeout", "enable"],
        ["timeout", "disable"],
        ["outage", "enable"],
        ["outage", "disable"],
        ["reset"],
        ["flap", "--up-ms", "10", "--down-ms", "10", "--iterations", "1"],
    ])
    func aMissingProxyFailsAndSaysToRunEnableFirst(command: [String]) async throws {
        try await withProxy { fixture in
            let before = try await fixture.rawState()
            let result = try await Toxictl.run(fixture.targeted(command + ["--proxy", "nosuch"]))
            #expect(result.status == 1 && result.exitedNormally, "\(result)")
            #expect(
                result.stderr.contains(#"proxy "nosuch" does not exist on \#(fixture.adminURL)"#),
                "\(result)"
            )
            #expect(result.stderr.contains("run `toxictl enable` first"), "\(result)")
            let after = try await fixture.rawState()
            #expect(after == before)
            #expect(try await fixture.admin.get("/proxies/nosuch").status == 404)
        }
    }

    // MARK: The server refuses a change

    @Test
    func aRefusedCreateExits1WithTheServersReasonAndLeavesNoProxy() async throws {
        try await withProxy { fixture in
            try await Loopback.withOccupiedPort { occupied in
                let result = try await fixture.toxictl(
                    "enable",
                    "--proxy",
                    "second",
                    "--listen",
                    "127.0.0.1:\(occupied)",
                    "--upstream",
                    "127.0.0.1:\(fixture.echoPort)"
                )
                #expect(result.status == 1 && result.exitedNormally, "\(result)")
                #expect(result.stderr.contains("address already in use"), "the server's reason: \(result)")
                #expect(!result.stdout.contains("sent "), "no success may be reported: \(result)")
            }
            #expect(try await fixture.admin.get("/proxies/second").status == 404)
        }
    }
}
