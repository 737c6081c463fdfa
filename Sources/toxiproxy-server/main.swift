import Logging
import ServiceLifecycle
import ToxiproxyModel
import ToxiproxyServer
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Go's flag package names the program by argv[0] as given.
let programName = CommandLine.arguments.first ?? "toxiproxy-server"
let flags: ServerFlags
do {
    flags = try ServerFlags.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileOutput.standardError("\(error)\n" + ServerFlags.usage(programName: programName))
    exit(2)
}
if flags.showHelp {
    FileOutput.standardError(ServerFlags.usage(programName: programName))
    exit(0)
}
if flags.showVersion {
    print("toxiproxy-server version \(ToxiproxyVersion.compatible)")
    exit(0)
}

var level = Logger.Level.info
var badLevel: String?
if let name = getenv("LOG_LEVEL").map({ String(cString: $0) }), !name.isEmpty {
    if let parsed = JSONLogHandler.level(named: name) {
        level = parsed
    } else {
        badLevel = name
    }
}
let configuredLevel = level
LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: configuredLevel) }
let logger = Logger(label: "toxiproxy")
if let badLevel {
    logger.error("unknown LOG_LEVEL value: \"\(badLevel)\"")
}

guard let port = Int(flags.port), (0...65535).contains(port) else {
    logger.critical("Invalid API port", metadata: ["port": "\(flags.port)"])
    FileOutput.standardError("toxiproxy-server: invalid -port \"\(flags.port)\": give a number from 0 to 65535\n")
    exit(2)
}

guard let maximumConnections = Int(flags.maximumConnections), maximumConnections > 0 else {
    FileOutput.standardError(
        "toxiproxy-server: invalid -max-connections \"\(flags.maximumConnections)\": give a number above 0\n"
    )
    exit(2)
}

logger.info("Starting Toxiproxy", metadata: ["version": "\(ToxiproxyVersion.compatible)"])
let server = ToxiproxyServer(
    configuration: .init(
        host: flags.host,
        port: port,
        configFile: flags.configFile,
        maximumConnectionsPerProxy: maximumConnections,
        proxyMetrics: flags.proxyMetrics,
        runtimeMetrics: flags.runtimeMetrics
    ),
    logger: logger
)
let group = ServiceGroup(
    configuration: .init(
        services: [server],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
)
do {
    try await group.run()
} catch {
    logger.critical("Server stopped", metadata: ["error": "\(error)"])
    FileOutput.standardError("toxiproxy-server: \(error)\n")
    exit(1)
}
