#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The command line. Parsed by hand: five flags do not justify another dependency for this target.
struct Options: Sendable {
    static let usage = """
        usage: swift run -c release Benchmarks [--server PATH] [--compare-server PATH] [--runs N] [--quick]
                                              [--output PATH] [--only NAME[,NAME...]]

          --server PATH          our toxiproxy-server binary (default: the one next to this executable;
                                 build it with `swift build -c release --product toxiproxy-server`)
          --compare-server PATH  any Toxiproxy-compatible server binary, also measured and compared
          --runs N               runs per figure; the median is reported (default 5, or 1 with --quick)
          --quick                one run with smaller sizes, for a smoke test of the harness
          --output PATH          where the results table goes (default Benchmarks/RESULTS.md; - for none)
          --only NAMES           run only these workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ","))

        """

    var server: String?
    var compareServer: String?
    var runs = 5
    var quick = false
    var output: String? = "Benchmarks/RESULTS.md"
    var only: Set<Workload> = Set(Workload.allCases)

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> Options {
        var options = Options()
        var runsGiven = false
        var iterator = arguments.makeIterator()
        func value(for flag: String) throws(UsageError) -> String {
            guard let value = iterator.next() else { throw UsageError(description: "\(flag) needs a value") }
            return value
        }
        while let argument = iterator.next() {
            switch argument {
            case "--server": options.server = try value(for: argument)
            case "--compare-server": options.compareServer = try value(for: argument)
            case "--runs":
                let text = try value(for: argument)
                guard let runs = Int(text), (1...100).contains(runs) else {
                    throw UsageError(description: "--runs takes a number from 1 to 100, not \(text)")
                }
                options.runs = runs
                runsGiven = true
            case "--quick": options.quick = true
            case "--output":
                let path = try value(for: argument)
                options.output = path == "-" ? nil : path
            case "--only":
                var selected = Set<Workload>()
                for name in try value(for: argument).split(separator: ",") {
                    guard let workload = Workload(rawValue: String(name)) else {
                        throw UsageError(description: "unknown workload \(name)")
                    }
                    selected.insert(workload)
                }
                options.only = selected
            case "-h", "--help":
                throw UsageError(description: "")
            default:
                throw UsageError(description: "unknown argument \(argument)")
            }
        }
        if options.quick && !runsGiven {
            options.runs = 1
        }
        return options
    }
}

/// The workloads, in the order they run and appear in the table.
enum Workload: String, CaseIterable, Sendable {
    case bulk
    case rr
    case setup
    case memory
    case admin
    case latency
    case bandwidth
}

/// How big each workload is; `--quick` shrinks everything so a smoke run takes well under a minute.
struct Sizes: Sendable {
    var bulkBytes1: Int
    var bulkBytesPerStream8: Int
    var roundTrips: Int
    var roundTripWarmup: Int
    var setupConnections: Int
    var setupConcurrency: Int
    var idleConnections: Int
    var adminStreams: Int
    var adminPairs: Int
    var adminBudgetSeconds: UInt64
    var latencyConnections: Int
    var latencyRoundTripsPerConnection: Int
    var bandwidthBytes: Int

    static let full = Sizes(
        bulkBytes1: 1 << 30,
        bulkBytesPerStream8: 128 << 20,
        roundTrips: 20_000,
        roundTripWarmup: 2_000,
        setupConnections: 2_000,
        setupConcurrency: 4,
        idleConnections: 5_000,
        adminStreams: 1_000,
        adminPairs: 100,
        adminBudgetSeconds: 60,
        latencyConnections: 10,
        latencyRoundTripsPerConnection: 20,
        bandwidthBytes: 2_000_000
    )

    static let quick = Sizes(
        bulkBytes1: 128 << 20,
        bulkBytesPerStream8: 16 << 20,
        roundTrips: 2_000,
        roundTripWarmup: 200,
        setupConnections: 300,
        setupConcurrency: 4,
        idleConnections: 1_000,
        adminStreams: 200,
        adminPairs: 20,
        adminBudgetSeconds: 30,
        latencyConnections: 4,
        latencyRoundTripsPerConnection: 5,
        bandwidthBytes: 500_000
    )
}
