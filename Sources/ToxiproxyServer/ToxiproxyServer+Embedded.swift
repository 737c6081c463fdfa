import Logging
import NIOCore
import ServiceLifecycle
import ToxiproxyModel

/// A server running in this process for the duration of `withToxiproxyServer`'s body.
public struct EmbeddedToxiproxy: Sendable {
    /// The admin API, `http://127.0.0.1:PORT`: give it to `ToxiproxyClient` or any Toxiproxy client.
    public let adminURL: String
    /// The admin API's port (picked by the system).
    public let adminPort: Int
    /// The server itself.
    public let server: ToxiproxyServer
    /// The address proxies listen on by default (`createProxy`).
    public let host: String

    /// The server's proxies, without going through HTTP.
    public var registry: ProxyRegistry { self.server.registry }

    /// Creates a proxy listening on a free port of `host` (127.0.0.1 by default) and returns where it listens.
    ///
    /// - Parameter upstream: `host:port` of the service behind the proxy.
    public func createProxy(
        name: String,
        upstream: String,
        enabled: Bool = true
    ) async throws -> (listen: String, port: Int) {
        let proxy = try await self.registry.createProxy(
            ProxyRequest(name: name, listen: "\(Self.bracketed(self.host)):0", upstream: upstream, enabled: enabled)
        )
        guard let port = proxy.listen.split(separator: ":").last.flatMap({ Int($0) }) else {
            throw EmbeddedToxiproxyError(message: "proxy \(name) listens on \(proxy.listen), which has no port")
        }
        return (proxy.listen, port)
    }

    static func bracketed(_ host: String) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }
}

/// The embedded server stopped before its admin API listened, or answered something unexpected.
public struct EmbeddedToxiproxyError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var cause: (any Error)?

    public init(message: String, cause: (any Error)? = nil) {
        self.message = message
        self.cause = cause
    }

    public var description: String { self.cause.map { "\(self.message): \($0)" } ?? self.message }
}

/// Runs a Toxiproxy server in this process for the duration of `body`, so a Swift test suite needs no server
/// binary: the admin API and the proxies listen on free ports of `host`.
///
/// The server shuts down gracefully when `body` returns or throws (or its task is cancelled): proxies stop,
/// their connections close and every port is free again before this returns.
///
/// ```swift
/// try await withToxiproxyServer { toxiproxy in
///     let (_, port) = try await toxiproxy.createProxy(name: "db", upstream: "127.0.0.1:5432")
///     // connect the code under test to 127.0.0.1:port; impair it through toxiproxy.adminURL
/// }
/// ```
///
/// - Parameters:
///   - host: where the admin API and `createProxy`'s proxies listen.
///   - configuration: the server's settings; its `host` and `port` are replaced by `host` and port 0.
///   - logger: nil logs only critical messages.
public func withToxiproxyServer<Result: Sendable>(
    host: String = "127.0.0.1",
    configuration: ToxiproxyServer.Configuration = ToxiproxyServer.Configuration(),
    logger: Logger? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (EmbeddedToxiproxy) async throws -> Result
) async throws -> Result {
    var configuration = configuration
    configuration.host = host
    configuration.port = 0
    let logger =
        logger
        ?? {
            var quiet = Logger(label: "toxiproxy-embedded")
            quiet.logLevel = .critical
            return quiet
        }()
    let (addresses, addressContinuation) = AsyncStream.makeStream(of: SocketAddress.self)
    let server = ToxiproxyServer(
        configuration: configuration,
        logger: logger,
        onAdminListening: { address in
            addressContinuation.yield(address)
            addressContinuation.finish()
        }
    )
    var groupConfiguration = ServiceGroupConfiguration(
        services: [
            .init(
                service: server,
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        ],
        logger: logger
    )
    // A connection that outlives the body (an event stream, a client that never closes) must not keep the
    // server up for ever: after this, its tasks are cancelled.
    groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
    let serviceGroup = ServiceGroup(configuration: groupConfiguration)

    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask {
            defer { addressContinuation.finish() }
            try await serviceGroup.run()
        }
        guard let address = await addresses.first(where: { _ in true }), let port = address.port else {
            // The server stopped before listening: its error says why (a port in use, a bad host).
            do {
                try await tasks.waitForAll()
            } catch {
                throw EmbeddedToxiproxyError(message: "the Toxiproxy server did not start", cause: error)
            }
            throw EmbeddedToxiproxyError(message: "the Toxiproxy server stopped before its admin API listened")
        }
        let embedded = EmbeddedToxiproxy(
            adminURL: "http://\(adminHost(of: address, configured: host)):\(port)",
            adminPort: port,
            server: server,
            host: host
        )
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await body(embedded))
        } catch {
            outcome = .failure(error)
        }
        await serviceGroup.triggerGracefulShutdown()
        let stopped: Swift.Result<Void, any Error>
        do {
            try await tasks.waitForAll()
            stopped = .success(())
        } catch {
            stopped = .failure(error)
        }
        // The body's error is the one the caller needs; a failed shutdown only matters after a success.
        let value = try outcome.get()
        try stopped.get()
        return value
    }
}

/// The host part of the admin URL: the bound address, or loopback when the server listens on every
/// interface.
private func adminHost(of address: SocketAddress, configured: String) -> String {
    switch address.ipAddress {
    case "0.0.0.0": "127.0.0.1"
    case "::": "[::1]"
    case let ip? where ip.contains(":"): "[\(ip)]"
    case let ip?: ip
    case nil: EmbeddedToxiproxy.bracketed(configured)
    }
}
