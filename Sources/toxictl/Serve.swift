import ArgumentParser
import Logging
import NIOCore
import ServiceLifecycle
import ToxiproxyServer
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Toxiproxy-compatible server here, until SIGINT or SIGTERM.",
        discussion: """
            The admin API is wire-compatible with Toxiproxy 2.12, so toxictl and any Toxiproxy client drive \
            it. Create the default proxy with `toxictl enable`, or load proxies at start with --config (a JSON \
            array in the /populate format). Logs are JSON lines on standard output; LOG_LEVEL sets the level.
            """
    )

    @Option(help: "Address of the admin API.")
    var host = "127.0.0.1"

    @Option(help: "Port of the admin API (0 picks a free one and prints it).")
    var port = 8474

    @Option(help: ArgumentHelp("Proxies to create at start, in the /populate JSON format.", valueName: "file"))
    var config: String?

    @Flag(help: "Serve /metrics with the toxiproxy_proxy_* series (as the server's -proxy-metrics).")
    var proxyMetrics = false

    @Flag(help: "Serve /metrics with the process_* series (as the server's -runtime-metrics).")
    var runtimeMetrics = false

    func validate() throws {
        guard (0...65535).contains(self.port) else {
            throw ValidationError("--port must be from 0 to 65535 (got \(self.port)).")
        }
        if let config, access(config, R_OK) != 0 {
            throw ValidationError("--config \(config): the file cannot be read (\(String(cString: strerror(errno)))).")
        }
    }

    func run() async throws {
        var level = Logger.Level.info
        if let name = getenv("LOG_LEVEL").map({ String(cString: $0) }), let parsed = JSONLogHandler.level(named: name) {
            level = parsed
        }
        let configuredLevel = level
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: configuredLevel) }
        let logger = Logger(label: "toxictl.serve")
        let host = self.host
        let server = ToxiproxyServer(
            configuration: .init(
                host: self.host,
                port: self.port,
                configFile: self.config,
                proxyMetrics: self.proxyMetrics,
                runtimeMetrics: self.runtimeMetrics
            ),
            logger: logger,
            onAdminListening: { address in
                let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(address.port ?? 0)"
                Console.line("serving the Toxiproxy admin API on \(url) (stop with Ctrl+C)")
            }
        )
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw CLIError(
                "cannot listen on \(host):\(self.port): the address is already in use (Address already in use); "
                    + "stop what listens there (another `toxictl serve` or Toxiproxy?), or pick another --port."
            )
        } catch {
            throw CLIError("the server stopped: \(error)")
        }
    }
}
