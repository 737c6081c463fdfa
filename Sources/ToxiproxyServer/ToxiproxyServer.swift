import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import ToxiproxyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole server: the proxy registry and the admin API in front of it, as a `Service` that stops every
/// proxy when it shuts down.
public struct ToxiproxyServer: Service {
    public struct Configuration: Sendable {
        /// Admin API host; `localhost` binds 127.0.0.1 only, as the reference does.
        public var host: String
        /// Admin API port; 0 picks a free one (see `onAdminListening`).
        public var port: Int
        /// Proxies to create before the API listens, in the `/populate` format.
        public var configFile: String?
        /// Live connections per proxy above which new clients are closed right after accept. Each proxied
        /// connection holds two file descriptors.
        public var maximumConnectionsPerProxy: Int

        /// A request must arrive whole within this time, and an idle keep-alive connection is closed after it
        /// (the reference's read timeout; slow or stalled clients cannot hold admin connections open).
        public var requestReadTimeout: TimeAmount
        /// Admin API connections open at once; more wait in the listen backlog.
        public var maximumAdminConnections: Int
        /// `-proxy-metrics`: the `toxiproxy_proxy_*` series on `/metrics`.
        public var proxyMetrics: Bool
        /// `-runtime-metrics`: the `process_*` series on `/metrics`.
        public var runtimeMetrics: Bool
        /// How often an idle scenario event stream gets a `: keep-alive` comment (so proxies and load balancers
        /// between toxictl and the server do not time the stream out).
        public var scenarioKeepAliveInterval: TimeAmount

        public static let defaultMaximumConnectionsPerProxy = 10_000

        public init(
            host: String = "localhost",
            port: Int = 8474,
            configFile: String? = nil,
            maximumConnectionsPerProxy: Int = Self.defaultMaximumConnectionsPerProxy,
            requestReadTimeout: TimeAmount = .seconds(15),
            maximumAdminConnections: Int = 256,
            proxyMetrics: Bool = false,
            runtimeMetrics: Bool = false,
            scenarioKeepAliveInterval: TimeAmount = .seconds(10)
        ) {
            self.scenarioKeepAliveInterval = scenarioKeepAliveInterval
            self.proxyMetrics = proxyMetrics
            self.runtimeMetrics = runtimeMetrics
            self.host = host
            self.port = port
            self.configFile = configFile
            self.maximumConnectionsPerProxy = maximumConnectionsPerProxy
            self.requestReadTimeout = requestReadTimeout
            self.maximumAdminConnections = maximumAdminConnections
        }
    }

    public let registry: ProxyRegistry
    /// The server's scenarios; stopped and restored on shutdown, before the proxies stop.
    public let scenarios: ScenarioRunner
    private let configuration: Configuration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let onAdminListening: @Sendable (SocketAddress) async -> Void

    /// - Parameter onAdminListening: called with the admin API's bound address once it accepts requests.
    public init(
        configuration: Configuration,
        logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onAdminListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.group = group
        self.registry = ProxyRegistry(
            group: group,
            logger: logger,
            maximumConnectionsPerProxy: configuration.maximumConnectionsPerProxy,
            metrics: ServerMetrics(
                proxyMetrics: configuration.proxyMetrics,
                runtimeMetrics: configuration.runtimeMetrics
            )
        )
        self.scenarios = ScenarioRunner(
            registry: self.registry,
            group: group,
            logger: logger,
            keepAliveInterval: configuration.scenarioKeepAliveInterval
        )
        self.onAdminListening = onAdminListening
    }

    public func run() async throws {
        if let configFile = self.configuration.configFile {
            await self.populate(fromFile: configFile)
        }
        let host = self.configuration.host == "localhost" ? "127.0.0.1" : self.configuration.host
        let api = AdminAPI(registry: self.registry, scenarios: self.scenarios, logger: self.logger)
        let logger = self.logger
        let onAdminListening = self.onAdminListening
        let readTimeout = self.configuration.requestReadTimeout
        let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let application = Application(
            responder: api.makeResponder(),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [RequestDeadlineHandler(timeout: readTimeout)],
                    idleTimeout: readTimeout
                )
            ),
            configuration: .init(
                address: .hostname(host, port: self.configuration.port),
                serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(self.configuration.maximumAdminConnections)
            ),
            onServerRunning: { channel in
                guard let address = channel.localAddress else { return }
                logger.info(
                    "Starting Toxiproxy HTTP server",
                    metadata: ["address": "\(ListenAddress.format(address))"]
                )
                await onAdminListening(address)
            },
            // The admin API gets a thread of its own, so its requests never queue behind busy proxy loops.
            eventLoopGroupProvider: .shared(adminGroup),
            logger: self.quietHTTPLogger()
        )
        let result: Result<Void, any Error>
        let scenarios = self.scenarios
        do {
            // A graceful shutdown waits for open responses, and a scenario's event stream ends only with the
            // scenario: stopping them when the shutdown begins lets watchers see `ended` and the server go.
            try await withGracefulShutdownHandler {
                try await application.run()
            } onGracefulShutdown: {
                Task { await scenarios.shutdown() }
            }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        // Every scenario restores before the proxies stop (again here for a cancelled run, which has no
        // graceful phase; a second call waits for the first one's restores).
        await scenarios.shutdown()
        await self.registry.shutdown()
        try? await adminGroup.shutdownGracefully()
        try result.get()
    }

    /// Hummingbird logs every request at debug; the admin API logs its own lines.
    private func quietHTTPLogger() -> Logger {
        var logger = self.logger
        logger.logLevel = max(logger.logLevel, .info)
        return logger
    }

    private func populate(fromFile path: String) async {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            self.logger.error(
                "Failed to load config file",
                metadata: ["config": "\(path)", "error": "\(error)"]
            )
            return
        }
        do {
            let value = try JSONParser.parseFirstValue(bytes)
            let requests = try ProxyRequest.decodeList(value)
            let (proxies, error) = await self.registry.populate(requests)
            if let error {
                self.logger.error(
                    "Failed to populate proxies from file",
                    metadata: ["config": "\(path)", "error": "\(error.message)"]
                )
            }
            self.logger.info(
                "Populated proxies from file",
                metadata: ["config": "\(path)", "proxies": "\(proxies.count)"]
            )
        } catch {
            self.logger.error(
                "Failed to populate proxies from file",
                metadata: ["config": "\(path)", "error": "\(error)"]
            )
        }
    }
}

private struct FileReadError: Error, CustomStringConvertible {
    var description: String
}

private func readFile(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else {
        throw FileReadError(description: "open \(path): \(goErrnoText(errno))")
    }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
    }
    return bytes
}
