import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
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
    let (addresses, continuation) = AsyncStream.makeStream(of: SocketAddress.self)
    let server = ToxiproxyServer(
        configuration: .init(
            host: "127.0.0.1",
            port: 0,
            configFile: configFile,
            maximumConnectionsPerProxy: maximumConnectionsPerProxy,
            requestReadTimeout: requestReadTimeout,
            proxyMetrics: proxyMetrics,
            runtimeMetrics: runtimeMetrics,
            scenarioKeepAliveInterval: scenarioKeepAliveInterval
        ),
        logger: logger,
        onAdminListening: { address in continuation.yield(address) }
    )
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.run()
            return nil
        }
        var iterator = addresses.makeAsyncIterator()
        guard let address = await iterator.next(), let port = address.port else {
            throw TestFailure("the admin API did not start")
        }
        let result = try await body(TestServer(server: server, adminPort: port))
        group.cancelAll()
        while let next = try await group.next() {
            if let next { return next }
        }
        return result
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
