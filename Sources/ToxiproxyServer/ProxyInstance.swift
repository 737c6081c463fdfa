import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ToxiproxyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One proxy: its configuration, its listener while enabled, its toxics, and its live links.
///
/// The registry serialises every change to a proxy, so the lock here only makes each accepted
/// connection's snapshot of the toxics and its registration one atomic step: a link either starts with
/// a toxic or receives it as a change, never neither. The data path takes it once per connection.
final class ProxyInstance: Sendable {
    typealias LinkReference = NIOLoopBound<ConnectionLink>

    private struct State {
        var listen: String
        var upstream: String
        var enabled = false
        var listener: (any Channel)?
        var upstreamToxics: [Toxic] = []
        var downstreamToxics: [Toxic] = []
        var links: [ObjectIdentifier: LinkReference] = [:]

        var toxics: [Toxic] { self.upstreamToxics + self.downstreamToxics }
    }

    let name: String
    /// Live connections above which new clients are closed right after accept (as on an upstream failure).
    let maximumConnections: Int
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    init(
        name: String,
        listen: String,
        upstream: String,
        maximumConnections: Int,
        group: any EventLoopGroup,
        logger: Logger
    ) {
        self.name = name
        self.maximumConnections = maximumConnections
        self.group = group
        var logger = logger
        logger[metadataKey: "proxy"] = "\(name)"
        self.logger = logger
        self.state = NIOLockedValueBox(State(listen: listen, upstream: upstream))
    }

    /// The proxy as the API shows it.
    var snapshot: Proxy {
        self.state.withLockedValue { state in
            Proxy(
                name: self.name,
                listen: state.listen,
                upstream: state.upstream,
                enabled: state.enabled,
                toxics: state.toxics
            )
        }
    }

    var isEnabled: Bool { self.state.withLockedValue { $0.enabled } }
    var listen: String { self.state.withLockedValue { $0.listen } }
    var upstream: String { self.state.withLockedValue { $0.upstream } }
    var liveConnectionCount: Int { self.state.withLockedValue { $0.links.count } }

    /// Stores a new address; the caller stops the proxy first when it is running.
    func setAddress(listen: String, upstream: String) {
        self.state.withLockedValue { state in
            state.listen = listen
            state.upstream = upstream
        }
    }

    // MARK: Listener

    /// Binds the listener; `listen` then shows the bound address (a port of 0 becomes the real port).
    func start() async throws(APIError) {
        guard !self.isEnabled else { return }
        let listen = self.listen
        let address: SocketAddress
        do {
            address = try await ListenAddress.resolveOffLoop(listen)
        } catch {
            throw APIError(code: .listenFailed, status: 500, message: "listen tcp: \(error)", cause: nil)
        }
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: self.group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [self] channel in
                    self.accept(channel)
                }
                .bind(to: address)
                .get()
        } catch {
            let message = "listen tcp \(ListenAddress.format(address)): \(Self.describeBindError(error))"
            throw APIError(code: .listenFailed, status: 500, message: message, cause: nil)
        }
        let bound = channel.localAddress.map(ListenAddress.format) ?? ListenAddress.format(address)
        self.state.withLockedValue { state in
            state.listener = channel
            state.enabled = true
            state.listen = bound
        }
        self.logger.info(
            "Started proxy",
            metadata: ["listen": "\(bound)", "upstream": "\(self.upstream)"]
        )
    }

    /// Closes the listener and every live connection (both sockets, held toxic data discarded).
    func stop() async {
        let (listener, links) = self.state.withLockedValue { state in
            let taken = (state.listener, Array(state.links.values))
            state.enabled = false
            state.listener = nil
            state.links = [:]
            return taken
        }
        guard let listener else { return }
        try? await listener.close()
        await withTaskGroup(of: Void.self) { group in
            for link in links {
                group.addTask {
                    try? await link.eventLoop.submit { link.value.close() }.get()
                }
            }
        }
        self.logger.info("Terminated proxy", metadata: ["listen": "\(self.listen)"])
    }

    private static func describeBindError(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            return "bind: \(goErrnoText(ioError.errnoCode))"
        }
        return "\(error)"
    }

    // MARK: Connections

    private func accept(_ client: any Channel) -> EventLoopFuture<Void> {
        let eventLoop = client.eventLoop
        var overLimit = false
        let registered: (link: ConnectionLink, upstream: String)? = self.state.withLockedValue { state in
            guard state.enabled else { return nil }
            guard state.links.count < self.maximumConnections else {
                overLimit = true
                return nil
            }
            let link = ConnectionLink(
                eventLoop: eventLoop,
                upstreamToxics: state.upstreamToxics,
                downstreamToxics: state.downstreamToxics,
                logger: self.logger
            )
            state.links[ObjectIdentifier(link)] = NIOLoopBound(link, eventLoop: eventLoop)
            return (link, state.upstream)
        }
        guard let (link, upstream) = registered else {
            if overLimit {
                self.logger.warning(
                    "Connection limit reached; closing the new client",
                    metadata: ["limit": "\(self.maximumConnections)"]
                )
            }
            return client.close()
        }
        self.logger.debug(
            "Accepted client",
            metadata: ["client": "\(client.remoteAddress.map { "\($0)" } ?? "?")", "upstream": "\(upstream)"]
        )
        let id = ObjectIdentifier(link)
        link.setOnFinish { [self] in
            self.state.withLockedValue { _ = $0.links.removeValue(forKey: id) }
        }
        link.watchClient(client)
        do {
            try client.pipeline.syncOperations.addHandler(link.clientHandler)
        } catch {
            link.close()
            return eventLoop.makeFailedFuture(error)
        }
        self.connectUpstream(link: link, upstream: upstream)
        return eventLoop.makeSucceededVoidFuture()
    }

    private func connectUpstream(link: ConnectionLink, upstream: String) {
        let eventLoop = link.eventLoop
        let boundLink = NIOLoopBound(link, eventLoop: eventLoop)
        let host: String
        let port: Int
        do {
            let split = try ListenAddress.splitHostPort(upstream)
            guard let parsed = Int(split.port), (0...65535).contains(parsed) else {
                throw ListenAddress.ResolveError(description: "dial tcp \(upstream): invalid port")
            }
            host = split.host.isEmpty ? "localhost" : split.host
            port = parsed
        } catch {
            link.upstreamFailed(error, upstream: upstream)
            return
        }
        // Auto-read stays off until the glue handler is in place, so a server that speaks first (a banner)
        // loses nothing; happy-eyeballs attempts that lose the race never touch the link.
        ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port)
            .hop(to: eventLoop)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    boundLink.value.upstreamConnected(channel)
                case .failure(let error):
                    boundLink.value.upstreamFailed(error, upstream: upstream)
                }
            }
    }

    // MARK: Toxics

    var toxics: [Toxic] { self.state.withLockedValue { $0.toxics } }

    func toxic(named name: String) -> Toxic? {
        self.state.withLockedValue { state in state.toxics.first { $0.name == name } }
    }

    /// Adds a toxic at the end of its direction's chain on every live connection.
    func addToxic(_ toxic: Toxic) async throws(APIError) {
        let links = try self.state.withLockedValue { state -> Result<[LinkReference], APIError> in
            guard !state.toxics.contains(where: { $0.name == toxic.name }) else {
                return .failure(.toxicAlreadyExists)
            }
            switch toxic.direction {
            case .upstream: state.upstreamToxics.append(toxic)
            case .downstream: state.downstreamToxics.append(toxic)
            }
            return .success(Array(state.links.values))
        }.get()
        await Self.broadcast(.add(toxic), to: links)
    }

    /// Replaces a toxic's settings (same name, type and stream) on every live connection.
    func replaceToxic(_ toxic: Toxic) async throws(APIError) {
        let links = try self.state.withLockedValue { state -> Result<[LinkReference], APIError> in
            if let index = state.upstreamToxics.firstIndex(where: { $0.name == toxic.name }) {
                state.upstreamToxics[index] = toxic
            } else if let index = state.downstreamToxics.firstIndex(where: { $0.name == toxic.name }) {
                state.downstreamToxics[index] = toxic
            } else {
                return .failure(.toxicNotFound)
            }
            return .success(Array(state.links.values))
        }.get()
        await Self.broadcast(.update(toxic), to: links)
    }

    /// Removes a toxic; what its stages held is flushed on, in order, before this returns.
    func removeToxic(named name: String) async throws(APIError) {
        let (direction, links) = try self.state.withLockedValue {
            state -> Result<(StreamDirection, [LinkReference]), APIError> in
            if let index = state.upstreamToxics.firstIndex(where: { $0.name == name }) {
                state.upstreamToxics.remove(at: index)
                return .success((.upstream, Array(state.links.values)))
            }
            if let index = state.downstreamToxics.firstIndex(where: { $0.name == name }) {
                state.downstreamToxics.remove(at: index)
                return .success((.downstream, Array(state.links.values)))
            }
            return .failure(.toxicNotFound)
        }.get()
        await Self.broadcast(.remove(name: name, direction: direction), to: links)
    }

    /// Bytes read from sockets and held by toxics right now, across every live connection.
    func heldByteCount() async -> Int {
        let links = self.state.withLockedValue { Array($0.links.values) }
        var total = 0
        for link in links {
            total += (try? await link.eventLoop.submit { link.value.heldByteCount }.get()) ?? 0
        }
        return total
    }

    func removeAllToxics() async {
        for toxic in self.toxics {
            try? await self.removeToxic(named: toxic.name)
        }
    }

    /// Applies a change on every link's own event loop, one task per loop for all of its links. Only
    /// in-memory work happens there (no waiting on sockets), so a stalled connection cannot hold up the admin
    /// call, and the call costs a round trip per event loop, not per connection.
    private static func broadcast(_ change: ToxicChange, to links: [LinkReference]) async {
        var linksByLoop: [ObjectIdentifier: (loop: any EventLoop, links: [LinkReference])] = [:]
        for link in links {
            linksByLoop[ObjectIdentifier(link.eventLoop), default: (link.eventLoop, [])].links.append(link)
        }
        let futures = linksByLoop.values.map { loop, links in
            loop.submit {
                for link in links { link.value.apply(change) }
            }
        }
        for future in futures {
            try? await future.get()
        }
    }
}

/// Go's text for an errno: the C library's, starting lower-case.
func goErrnoText(_ code: Int32) -> String {
    guard let cString = strerror(code) else { return "errno \(code)" }
    let text = String(cString: cString)
    return text.prefix(1).lowercased() + text.dropFirst()
}
