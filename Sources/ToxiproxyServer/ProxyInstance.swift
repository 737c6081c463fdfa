import Atomics
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
/// a toxic or is told of the change, never neither. The data path takes it once per connection, and again
/// only when the toxics changed (`toxicVersion` tells it, with one atomic load per chunk).
final class ProxyInstance: ToxicSource {
    typealias LinkReference = NIOLoopBound<ConnectionLink>

    private struct State {
        var listen: String
        var upstream: String
        var enabled = false
        var listener: (any Channel)?
        var toxics = ToxicSet()
        var links: [ObjectIdentifier: LinkReference] = [:]
        /// The byte counters of connections accepted now (labelled with the bound listen address).
        var byteCounters: LinkByteCounters?
    }

    /// Reads of up to 1 MiB where NIO's default stops at 64 KiB: a bulk stream then takes a sixteenth of the
    /// reads, pipeline passes and writes, which carried 1.6× the throughput of a single stream on loopback
    /// (Benchmarks/RESULTS.md). The allocator shrinks again after small reads; idle connections hold no buffer.
    static let readAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 1024 * 1024)

    /// How long an upstream may take to connect, and then to acknowledge the first bytes sent to it; the
    /// client is closed after that.
    static let dialTimeout = TimeAmount.seconds(10)

    let name: String
    /// Live connections above which new clients are closed right after accept (as on an upstream failure).
    let maximumConnections: Int
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// `state.toxics.version`, readable without the lock.
    private let toxicVersion = ManagedAtomic(0)
    /// Nil without `-proxy-metrics`.
    let metrics: ProxyMetrics?
    /// Always counted: what scenarios report. Handed on when `/populate` replaces the proxy.
    let activity: ProxyActivity

    init(
        name: String,
        listen: String,
        upstream: String,
        maximumConnections: Int,
        group: any EventLoopGroup,
        metrics: ProxyMetrics? = nil,
        activity: ProxyActivity = ProxyActivity(),
        logger: Logger
    ) {
        self.metrics = metrics
        self.activity = activity
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
                toxics: state.toxics.toxics
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
                .childChannelOption(.recvAllocator, value: Self.readAllocator)
                // A client's FIN ends only its direction: the upstream's answer still comes back.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
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
            state.byteCounters = self.metrics?.byteCounters(listener: bound, upstream: state.upstream)
        }
        self.logger.info(
            "Started proxy",
            metadata: ["listen": "\(bound)", "upstream": "\(self.upstream)"]
        )
    }

    /// Closes the listener, then every live connection (both sockets, held toxic data discarded).
    ///
    /// Returns once the listener is closed (its port is free again) and the connections are being closed on
    /// their loops, or, with `waitForConnections`, once they are closed.
    func stop(waitForConnections: Bool = false) async {
        let (listener, links) = self.state.withLockedValue { state in
            let taken = (state.listener, Array(state.links.values))
            state.enabled = false
            state.listener = nil
            state.links = [:]
            return taken
        }
        guard let listener else { return }
        try? await listener.close()
        // The proxy closes them itself: cuts, in a scenario's report.
        let closed = Self.onTheirLoops(links) { $0.cut() }
        if waitForConnections {
            for future in closed {
                try? await future.get()
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
                toxics: state.toxics,
                toxicSource: self,
                dialTimeout: Self.dialTimeout,
                metrics: self.metrics,
                byteCounters: state.byteCounters,
                activity: self.activity,
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
        self.metrics?.connectionAccepted()
        self.activity.connectionAccepted()
        link.setOnFinish { [self] in
            self.state.withLockedValue { _ = $0.links.removeValue(forKey: id) }
            self.metrics?.connectionClosed()
            self.activity.connectionClosed()
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
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: Self.readAllocator)
            .channelOption(.autoRead, value: false)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connectTimeout(Self.dialTimeout)
        // An IP literal needs no resolver: NIO's would still take a round trip through a dispatch queue.
        let connected: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: host, port: port)
        }
        connected
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

    var toxics: [Toxic] { self.state.withLockedValue { $0.toxics.toxics } }

    func toxic(named name: String) -> Toxic? {
        self.state.withLockedValue { $0.toxics.toxic(named: name) }
    }

    func toxics(ifNewerThan version: Int) -> ToxicSet? {
        guard self.toxicVersion.load(ordering: .acquiring) != version else { return nil }
        return self.state.withLockedValue { $0.toxics }
    }

    /// Adds a toxic at the end of its direction's chain on every live connection.
    func addToxic(_ toxic: Toxic) throws(APIError) {
        try self.changeToxics { toxics throws(APIError) in try toxics.add(toxic) }
    }

    /// Replaces a toxic's settings (same name, type and stream) on every live connection.
    func replaceToxic(_ toxic: Toxic) throws(APIError) {
        try self.changeToxics { toxics throws(APIError) in try toxics.replace(toxic) }
    }

    /// Removes a toxic; each connection hands what its stage held on, in order, before it reads more.
    func removeToxic(named name: String) throws(APIError) {
        try self.changeToxics { toxics throws(APIError) in try toxics.remove(named: name) }
        self.metrics?.toxicRemoved(named: name)
    }

    func removeAllToxics() {
        for toxic in self.toxics {
            try? self.removeToxic(named: toxic.name)
        }
    }

    /// Bytes read from sockets and held by toxics right now, across every live connection. Runs behind the
    /// changes already made on each loop, so it sees them applied.
    func heldByteCount() async -> Int {
        let links = self.state.withLockedValue { Array($0.links.values) }
        var total = 0
        for link in links {
            total += (try? await link.eventLoop.submit { link.value.heldByteCount }.get()) ?? 0
        }
        return total
    }

    /// Changes the toxics and returns without waiting for the connections: each one applies the change
    /// before it handles any more data (`toxics(ifNewerThan:)`), and every loop is also told at once, one task
    /// for all of its links, so that toxics acting on idle connections start without waiting for data.
    /// Waiting here for every loop would tie the admin API's latency to the busiest loop's.
    private func changeToxics(_ change: (inout ToxicSet) throws(APIError) -> Void) throws(APIError) {
        let links = try self.state.withLockedValue { state -> Result<[LinkReference], APIError> in
            do throws(APIError) {
                try change(&state.toxics)
            } catch {
                return .failure(error)
            }
            self.toxicVersion.store(state.toxics.version, ordering: .releasing)
            return .success(Array(state.links.values))
        }.get()
        Self.onTheirLoops(links) { $0.catchUpWithToxics() }
    }

    /// Runs `body` for every link on the link's event loop, one task per loop for all of its links; each
    /// future completes when its loop is done.
    @discardableResult
    private static func onTheirLoops(
        _ links: [LinkReference],
        _ body: @escaping @Sendable (ConnectionLink) -> Void
    ) -> [EventLoopFuture<Void>] {
        var linksByLoop: [ObjectIdentifier: (loop: any EventLoop, links: [LinkReference])] = [:]
        for link in links {
            linksByLoop[ObjectIdentifier(link.eventLoop), default: (link.eventLoop, [])].links.append(link)
        }
        return linksByLoop.values.map { loop, links in
            loop.submit {
                for link in links { body(link.value) }
            }
        }
    }
}

/// Go's text for an errno: the C library's, starting lower-case.
func goErrnoText(_ code: Int32) -> String {
    guard let cString = strerror(code) else { return "errno \(code)" }
    let text = String(cString: cString)
    return text.prefix(1).lowercased() + text.dropFirst()
}
