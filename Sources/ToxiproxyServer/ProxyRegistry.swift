import Logging
import NIOCore
import Scenarios
import ToxiproxyModel

/// Every proxy by name, and every change to them.
///
/// Changes run one at a time (an actor alone would interleave them at each `await`, for example two
/// creates of one name both passing the existence check while the first one binds). Reads take a
/// consistent snapshot without waiting for a change in progress.
public actor ProxyRegistry {
    private var proxies: [String: ProxyInstance] = [:]
    private let group: any EventLoopGroup
    private let logger: Logger
    private let maximumConnectionsPerProxy: Int
    /// The server's metrics; each proxy's series exist from its creation to its deletion.
    public nonisolated let metrics: ServerMetrics
    private var changeInProgress = false
    private var waitingChanges: [CheckedContinuation<Void, Never>] = []

    /// - Parameter maximumConnectionsPerProxy: live connections a proxy keeps before it closes new clients.
    public init(
        group: any EventLoopGroup,
        logger: Logger,
        maximumConnectionsPerProxy: Int = ToxiproxyServer.Configuration.defaultMaximumConnectionsPerProxy,
        metrics: ServerMetrics = ServerMetrics(proxyMetrics: false, runtimeMetrics: false)
    ) {
        self.metrics = metrics
        self.group = group
        self.logger = logger
        self.maximumConnectionsPerProxy = maximumConnectionsPerProxy
    }

    // MARK: Reads

    /// Every proxy, sorted by name.
    public func proxyList() -> [Proxy] {
        self.proxies.keys.sorted().compactMap { self.proxies[$0]?.snapshot }
    }

    public func proxy(named name: String) throws(APIError) -> Proxy {
        try self.instance(named: name).snapshot
    }

    public func toxics(ofProxy proxyName: String) throws(APIError) -> [Toxic] {
        try self.instance(named: proxyName).toxics
    }

    public func toxic(named toxicName: String, ofProxy proxyName: String) throws(APIError) -> Toxic {
        guard let toxic = try self.instance(named: proxyName).toxic(named: toxicName) else {
            throw APIError.toxicNotFound
        }
        return toxic
    }

    /// Number of live connections of a proxy (for tests and status).
    public func liveConnectionCount(ofProxy proxyName: String) throws(APIError) -> Int {
        try self.instance(named: proxyName).liveConnectionCount
    }

    /// Bytes held by the toxics of a proxy's live connections (read from one socket, not yet written to the other).
    public func heldByteCount(ofProxy proxyName: String) async throws(APIError) -> Int {
        try await self.instance(named: proxyName).heldByteCount()
    }

    // MARK: Proxies

    public func createProxy(_ request: ProxyRequest) async throws(APIError) -> Proxy {
        try await self.exclusively { () throws(APIError) in
            guard let name = request.name, !name.isEmpty else { throw APIError.missingField("name") }
            guard let upstream = request.upstream, !upstream.isEmpty else {
                throw APIError.missingField("upstream")
            }
            guard self.proxies[name] == nil else { throw APIError.proxyAlreadyExists }
            let instance = try await self.makeInstance(
                name: name,
                listen: request.listen ?? "",
                upstream: upstream,
                enabled: request.enabled ?? true
            )
            self.proxies[name] = instance
            return instance.snapshot
        }
    }

    /// Applies the reference's update rules: restart only when the resolved listen address or the upstream
    /// changed; then start or stop to match `enabled`.
    public func updateProxy(named name: String, with request: ProxyRequest) async throws(APIError) -> Proxy {
        try await self.exclusively { () throws(APIError) in
            let instance = try self.instance(named: name)
            let listen = request.listen ?? instance.listen
            let upstream = request.upstream ?? instance.upstream
            let enabled = request.enabled ?? instance.isEnabled
            if try await self.differs(instance, listen: listen, upstream: upstream) {
                await instance.stop()
                instance.setAddress(listen: listen, upstream: upstream)
            }
            if enabled != instance.isEnabled {
                if enabled {
                    try await instance.start()
                } else {
                    await instance.stop()
                }
            }
            return instance.snapshot
        }
    }

    public func deleteProxy(named name: String) async throws(APIError) {
        try await self.exclusively { () throws(APIError) in
            let instance = try self.instance(named: name)
            await instance.stop()
            instance.metrics?.remove()
            self.proxies[name] = nil
        }
    }

    /// `/populate`: validates every entry, then applies them in order; the first failure stops the rest
    /// and what was applied before it stays. Returns the proxies applied and the error, if any.
    public func populate(_ requests: [ProxyRequest]) async -> (proxies: [Proxy], error: APIError?) {
        await self.exclusively {
            for (index, request) in requests.enumerated() {
                if request.name?.isEmpty ?? true {
                    return ([], APIError.missingField("name", proxyIndex: index + 1))
                }
                if request.upstream?.isEmpty ?? true {
                    return ([], APIError.missingField("upstream", proxyIndex: index + 1))
                }
            }
            var applied: [Proxy] = []
            for request in requests {
                do throws(APIError) {
                    applied.append(try await self.addOrReplace(request))
                } catch {
                    return (applied, error)
                }
            }
            return (applied, nil)
        }
    }

    /// `/reset`: enables every proxy and removes every toxic. Stops at the first proxy that cannot bind.
    public func reset() async throws(APIError) {
        try await self.exclusively { () throws(APIError) in
            for instance in self.proxies.values {
                try await instance.start()
                instance.removeAllToxics()
            }
        }
    }

    /// Stops every proxy (server shutdown).
    public func shutdown() async {
        await self.exclusively {
            for instance in self.proxies.values {
                await instance.stop(waitForConnections: true)
            }
        }
    }

    // MARK: Toxics

    // Toxic changes do not wait behind a proxy change in progress (a disable closing its connections): each
    // is one step under the proxy's lock, with no suspension, so it lands whole before or after any await of
    // the other, and links apply it on their own loops (`ProxyInstance.changeToxics`).

    public func addToxic(_ request: ToxicRequest, toProxy proxyName: String) throws(APIError) -> Toxic {
        let instance = try self.instance(named: proxyName)
        let header = try Toxic.resolveHeader(from: request)
        guard instance.toxic(named: header.name) == nil else { throw APIError.toxicAlreadyExists }
        let toxic = try Toxic.make(header: header, request: request)
        try toxic.validateForServer()
        try instance.addToxic(toxic)
        return toxic
    }

    /// PATCH semantics: merges `attributes` and takes `toxicity`; name, type and stream never change. A body
    /// that fails to decode changes nothing.
    public func updateToxic(
        named toxicName: String,
        ofProxy proxyName: String,
        with body: JSONValue
    ) throws(APIError) -> Toxic {
        let instance = try self.instance(named: proxyName)
        guard var toxic = instance.toxic(named: toxicName) else { throw APIError.toxicNotFound }
        try toxic.applyUpdate(body)
        try toxic.validateForServer()
        try instance.replaceToxic(toxic)
        return toxic
    }

    public func removeToxic(named toxicName: String, fromProxy proxyName: String) throws(APIError) {
        try self.instance(named: proxyName).removeToxic(named: toxicName)
    }

    // MARK: Scenarios

    /// A proxy's activity counters and probes (they outlive a `/populate` replacing the proxy).
    func activity(ofProxy proxyName: String) throws(APIError) -> ProxyActivity {
        try self.instance(named: proxyName).activity
    }

    /// Applies one change of a scenario's phase or restore, through the same paths as the admin API: a toxic
    /// set over one of the same name, type and stream is replaced in place (no byte lost); of another type or
    /// stream it is removed and added again; `enabled` goes through `updateProxy`. Removing a toxic that is
    /// already gone is not an error.
    func apply(_ change: ProxyChange) async throws(APIError) {
        switch change {
        case .setToxic(let proxyName, let toxic):
            let instance = try self.instance(named: proxyName)
            try toxic.validateForServer()
            if let existing = instance.toxic(named: toxic.name) {
                if existing.type == toxic.type && existing.direction == toxic.direction {
                    guard existing != toxic else { return }
                    try instance.replaceToxic(toxic)
                    return
                }
                try instance.removeToxic(named: toxic.name)
            }
            try instance.addToxic(toxic)
        case .removeToxic(let proxyName, let name):
            let instance = try self.instance(named: proxyName)
            guard instance.toxic(named: name) != nil else { return }
            try instance.removeToxic(named: name)
        case .setEnabled(let proxyName, let enabled):
            _ = try await self.updateProxy(named: proxyName, with: ProxyRequest(enabled: enabled))
        }
    }

    // MARK: Helpers

    private func instance(named name: String) throws(APIError) -> ProxyInstance {
        guard let instance = self.proxies[name] else { throw APIError.proxyNotFound }
        return instance
    }

    private func makeInstance(
        name: String,
        listen: String,
        upstream: String,
        enabled: Bool,
        activity: ProxyActivity = ProxyActivity()
    ) async throws(APIError) -> ProxyInstance {
        let instance = ProxyInstance(
            name: name,
            listen: listen,
            upstream: upstream,
            maximumConnections: self.maximumConnectionsPerProxy,
            group: self.group,
            metrics: self.metrics.makeProxyMetrics(proxy: name),
            activity: activity,
            logger: self.logger
        )
        if enabled {
            try await instance.start()
        }
        return instance
    }

    /// The reference's "differs": the requested listen, resolved, against the stored listen string, or a
    /// different upstream. A stored hostname never equals a resolved address, and port 0 always differs.
    private func differs(_ instance: ProxyInstance, listen: String, upstream: String) async throws(APIError) -> Bool {
        let resolved: SocketAddress
        do {
            resolved = try await ListenAddress.resolveOffLoop(listen)
        } catch {
            throw APIError(code: .listenFailed, status: 500, message: "\(error)", cause: nil)
        }
        return ListenAddress.format(resolved) != instance.listen || upstream != instance.upstream
    }

    private func addOrReplace(_ request: ProxyRequest) async throws(APIError) -> Proxy {
        let name = request.name ?? ""
        let listen = request.listen ?? ""
        let upstream = request.upstream ?? ""
        if let existing = self.proxies[name] {
            guard try await self.differs(existing, listen: listen, upstream: upstream) else {
                return existing.snapshot
            }
            await existing.stop()
            // Before the new proxy registers its series: the registry hands out one object per label set.
            // (Should the new proxy fail to bind, the old one stays listed, stopped, without series.)
            existing.metrics?.remove()
        }
        let instance = try await self.makeInstance(
            name: name,
            listen: listen,
            upstream: upstream,
            enabled: request.enabled ?? true,
            activity: self.proxies[name]?.activity ?? ProxyActivity()
        )
        self.proxies[name] = instance
        return instance.snapshot
    }

    private func exclusively<T, Failure: Error>(
        _ body: () async throws(Failure) -> T
    ) async throws(Failure) -> T {
        while self.changeInProgress {
            await withCheckedContinuation { self.waitingChanges.append($0) }
        }
        self.changeInProgress = true
        defer {
            self.changeInProgress = false
            if !self.waitingChanges.isEmpty {
                self.waitingChanges.removeFirst().resume()
            }
        }
        return try await body()
    }
}
