import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// The command line follows Go's `flag` package (spec §6), so scripts written for the reference work as is.
@Suite
struct ServerFlagsTests {
    @Test
    func defaultsMatchTheReference() throws {
        let flags = try ServerFlags.parse([])
        #expect(flags.host == "localhost")
        #expect(flags.port == "8474")
        #expect(flags.configFile == nil)
        #expect(!flags.showVersion)
        #expect(!flags.showHelp)
    }

    /// Go accepts one or two dashes, and the value either as the next argument or after `=`.
    @Test(arguments: [
        ["-host", "0.0.0.0"], ["--host", "0.0.0.0"], ["-host=0.0.0.0"], ["--host=0.0.0.0"],
    ])
    func stringFlagSyntaxes(arguments: [String]) throws {
        let flags = try ServerFlags.parse(arguments)
        #expect(flags.host == "0.0.0.0")
        #expect(flags.port == "8474")
    }

    @Test
    func everyStringFlagIsStored() throws {
        let flags = try ServerFlags.parse(["-host", "127.0.0.1", "--port=9000", "-config", "/etc/toxiproxy.json"])
        #expect(flags.host == "127.0.0.1")
        #expect(flags.port == "9000")
        #expect(flags.configFile == "/etc/toxiproxy.json")
    }

    @Test
    func aValueMayBeEmptyOrLookLikeAFlag() throws {
        // Go takes the next argument as the value whatever it looks like, and `-x=` sets an empty string.
        #expect(try ServerFlags.parse(["-host="]).host == "")
        #expect(try ServerFlags.parse(["-host", "-port"]).host == "-port")
        #expect(try ServerFlags.parse(["-config", "a=b"]).configFile == "a=b")
    }

    @Test
    func theLastOccurrenceWins() throws {
        #expect(try ServerFlags.parse(["-port", "1", "-port", "2"]).port == "2")
    }

    @Test(arguments: [
        (["-version"], true), (["--version"], true), (["-version=true"], true), (["-version=false"], false),
        (["-version=1"], true), (["-version=0"], false), (["-version=T"], true), (["-version=F"], false),
        (["-version=TRUE"], true), (["-version=False"], false), ([], false),
    ])
    func booleanFlagSyntaxes(arguments: [String], expected: Bool) throws {
        #expect(try ServerFlags.parse(arguments).showVersion == expected)
    }

    /// A boolean never consumes the next argument: `false` is the first non-flag, which ends parsing.
    @Test
    func booleanFlagDoesNotTakeTheNextArgument() throws {
        let flags = try ServerFlags.parse(["-version", "false", "-host", "x"])
        #expect(flags.showVersion)
        #expect(flags.host == "localhost")
    }

    /// §6: `-seed` is accepted (and ignored since 2.9.0); Go still parses it as an int64.
    @Test(arguments: [["-seed", "5"], ["-seed=5"], ["--seed", "-42"], ["-seed", "9223372036854775807"]])
    func seedIsAcceptedAndIgnored(arguments: [String]) throws {
        let flags = try ServerFlags.parse(arguments + ["-host", "h"])
        #expect(flags.host == "h", "parsing must continue after -seed")
        #expect(flags == (try ServerFlags.parse(["-host", "h"])))
    }

    @Test
    func seedMustBeAnInteger() {
        #expect(Self.parseError(["-seed", "abc"]) == #"invalid value "abc" for flag -seed: parse error"#)
    }

    @Test(arguments: [["-help"], ["--help"], ["-h"], ["-h", "-nope"], ["-host", "x", "-help"]])
    func helpIsRequestedNotAnError(arguments: [String]) throws {
        #expect(try ServerFlags.parse(arguments).showHelp)
    }

    @Test(arguments: [(["-nope"], "-nope"), (["--nope"], "-nope"), (["-nope=1"], "-nope"), (["-Host", "x"], "-Host")])
    func unknownFlagIsAnError(arguments: [String], shown: String) {
        #expect(Self.parseError(arguments) == "flag provided but not defined: \(shown)")
    }

    @Test(arguments: ["host", "port", "config", "seed"])
    func missingValueIsAnError(name: String) {
        #expect(Self.parseError(["-\(name)"]) == "flag needs an argument: -\(name)")
        #expect(Self.parseError(["-version", "--\(name)"]) == "flag needs an argument: -\(name)")
    }

    @Test
    func invalidBooleanValueIsAnError() {
        #expect(Self.parseError(["-version=maybe"]) == #"invalid boolean value "maybe" for -version: parse error"#)
    }

    @Test(arguments: ["---host", "-=x", "--=x"])
    func badFlagSyntaxIsAnError(argument: String) {
        #expect(Self.parseError([argument, "x"]) == "bad flag syntax: \(argument)")
    }

    /// Go stops at the first non-flag argument, at a lone `-`, and after `--`.
    @Test(arguments: [
        ["extra", "-host", "x"], ["-", "-host", "x"], ["--", "-host", "x"], ["-port", "1", "extra", "-host", "x"],
        ["-port", "1", "--", "-nope"],
    ])
    func parsingStopsAtTheFirstNonFlag(arguments: [String]) throws {
        let flags = try ServerFlags.parse(arguments)
        #expect(flags.host == "localhost")
    }

    @Test
    func argumentsBeforeTheFirstNonFlagStillApply() throws {
        let flags = try ServerFlags.parse(["-port", "1", "extra", "-port", "2"])
        #expect(flags.port == "1")
    }

    /// The reference's metrics booleans, in each of Go's spellings; both off by default.
    @Test(arguments: [
        (["-proxy-metrics"], true, false), (["--runtime-metrics"], false, true),
        (["-proxy-metrics=true", "-runtime-metrics=1"], true, true), (["-proxy-metrics=false"], false, false),
        (["-runtime-metrics", "-host", "h"], false, true), ([], false, false),
    ])
    func metricsFlagsParse(arguments: [String], proxy: Bool, runtime: Bool) throws {
        let flags = try ServerFlags.parse(arguments)
        #expect(flags.proxyMetrics == proxy)
        #expect(flags.runtimeMetrics == runtime)
    }

    @Test
    func metricsFlagsTakeNoSeparateValue() {
        #expect(
            Self.parseError(["-proxy-metrics=maybe"])
                == #"invalid boolean value "maybe" for -proxy-metrics: parse error"#
        )
    }

    @Test(arguments: ["toxiproxy-server", "/usr/bin/toxiproxy-server"])
    func usageStartsWithTheProgramName(programName: String) {
        let usage = ServerFlags.usage(programName: programName)
        #expect(usage.hasPrefix("Usage of \(programName):\n"))
    }

    /// Go's `PrintDefaults`: one `  -name` line per flag, with the value type for non-booleans.
    @Test
    func usageListsEveryFlag() {
        let lines = ServerFlags.usage(programName: "x").split(separator: "\n").map(String.init)
        for line in [
            "  -config string", "  -host string", "  -port string", "  -proxy-metrics", "  -runtime-metrics",
            "  -seed int", "  -version",
        ] {
            #expect(lines.contains(line), "missing `\(line)` in \(lines)")
        }
        // Go prints the defaults of non-zero values.
        #expect(lines.contains { $0.contains(#"(default "localhost")"#) })
        #expect(lines.contains { $0.contains(#"(default "8474")"#) })
    }

    /// The error text for `arguments`, or nil when they parse.
    private static func parseError(_ arguments: [String]) -> String? {
        do {
            _ = try ServerFlags.parse(arguments)
            return nil
        } catch {
            return error.description
        }
    }
}
