import Logging
import NIOCore
import ToxiproxyServer

/// A running server on 127.0.0.1 with an ephemeral admin port, for the duration of `body`.
public struct TestServer: Sendable {
    public let server: ToxiproxyServer
    public let adminPort: Int

    public var registry: ProxyRegistry { self.server.registry }
    public var admin: AdminClient { AdminClient(port: self.adminPort) }
}

/// Runs a fresh server for `body` and shuts it down (every proxy stopped) afterwards, whatever happens.
public func withTestServer<T: Sendable>(
    configFile: String? = nil,
    maximumConnectionsPerProxy: Int = ToxiproxyServer.Configuration.defaultMaximumConnectionsPerProxy,
    requestReadTimeout: TimeAmount = .seconds(15),
    proxyMetrics: Bool = false,
    runtimeMetrics: Bool = false,
    scenarioKeepAliveInterval: TimeAmount = .seconds(10),
    _ body: @Sendable (TestServer) async throws -> T
) async throws -> T {
    var logger = Logger(label: "test-server")
    logger.logLevel = .critical
    let configuration = ToxiproxyServer.Configuration(
        configFile: configFile,
        maximumConnectionsPerProxy: maximumConnectionsPerProxy,
        requestReadTimeout: requestReadTimeout,
        proxyMetrics: proxyMetrics,
        runtimeMetrics: runtimeMetrics,
        scenarioKeepAliveInterval: scenarioKeepAliveInterval
    )
    return try await withToxiproxyServer(configuration: configuration, logger: logger) { embedded in
        try await body(TestServer(server: embedded.server, adminPort: embedded.adminPort))
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
