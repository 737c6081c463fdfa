import ToxiproxyModel

extension ToxiproxyClient {
    /// A handle on one proxy, for scoped impairments: `try await proxy.withLatency(.milliseconds(500)) { … }`.
    /// Nothing is checked until a helper runs.
    public func proxyHandle(named name: String) -> ProxyHandle {
        ProxyHandle(client: self, name: name)
    }
}

/// Scoped impairments of one proxy, in the style of toxiproxy-ruby's `apply do … end` blocks: each helper
/// impairs the proxy, runs `body`, and undoes exactly its own change when `body` returns, throws or its task is
/// cancelled.
///
/// They use only the plain Toxiproxy API (toxics and the proxy's `enabled` flag), so they work against any
/// Toxiproxy server. Each adds a toxic under a name of its own (`scoped_latency_downstream_<random>`), so
/// nested helpers, and toxics that others add meanwhile, are never touched; an outage re-enables the proxy
/// only if it was enabled before.
///
/// The undo runs in a task of its own, so a cancelled task still restores the proxy before the helper returns.
/// It cannot run if the process dies first: against this project's server, `ToxiproxyClient.withScenario`
/// gives impairments a lease that the server enforces.
public struct ProxyHandle: Sendable {
    public let client: ToxiproxyClient
    /// The proxy's name.
    public let name: String

    public init(client: ToxiproxyClient, name: String) {
        self.client = client
        self.name = name
    }

    /// Delays each chunk of data on `stream` by `latency` ± `jitter` (milliseconds are the server's unit).
    public func withLatency<Result>(
        _ latency: Duration,
        jitter: Duration = .zero,
        stream: StreamDirection = .downstream,
        toxicity: Float = 1,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let definition = ToxicDefinition(
            name: Self.scopedName(type: "latency", stream: stream),
            type: "latency",
            stream: stream,
            toxicity: toxicity,
            attributes: [("latency", latency.wholeMilliseconds), ("jitter", jitter.wholeMilliseconds)]
        )
        return try await self.withToxic(definition) { _ in try await body() }
    }

    /// Holds the data on `stream`, and closes the connection after `timeout` (`.zero`: holds it for ever, the
    /// connection hangs).
    public func withTimeout<Result>(
        _ timeout: Duration,
        stream: StreamDirection = .downstream,
        toxicity: Float = 1,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let definition = ToxicDefinition(
            name: Self.scopedName(type: "timeout", stream: stream),
            type: "timeout",
            stream: stream,
            toxicity: toxicity,
            attributes: [("timeout", timeout.wholeMilliseconds)]
        )
        return try await self.withToxic(definition) { _ in try await body() }
    }

    /// Limits `stream` to `rate` KB/s.
    public func withBandwidth<Result>(
        rate: Int64,
        stream: StreamDirection = .downstream,
        toxicity: Float = 1,
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let definition = ToxicDefinition(
            name: Self.scopedName(type: "bandwidth", stream: stream),
            type: "bandwidth",
            stream: stream,
            toxicity: toxicity,
            attributes: [("rate", rate)]
        )
        return try await self.withToxic(definition) { _ in try await body() }
    }

    /// Adds any toxic for the duration of `body`, which gets it as the server created it. A definition
    /// without a name gets a unique one (`scoped_<type>_<stream>_<random>`); with a name, that toxic must not
    /// exist yet (the server answers 409).
    public func withToxic<Result>(
        _ definition: ToxicDefinition,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Toxic) async throws -> Result
    ) async throws -> Result {
        var definition = definition
        if definition.name == nil {
            definition.name = Self.scopedName(type: definition.type, stream: definition.stream)
        }
        let client = self.client
        let proxy = self.name
        let request = definition
        return try await Self.scoped(
            apply: { try await client.addToxic(request, toProxy: proxy) },
            undo: { toxic in
                do throws(ToxiproxyClientError) {
                    try await client.removeToxic(named: toxic.name, fromProxy: proxy)
                } catch {
                    // Someone removed it (or the proxy) already: nothing of ours is left.
                    if !error.isNotFound { throw error }
                }
            },
            body
        )
    }

    /// Disables the proxy for the duration of `body`: its listener closes, live connections are cut, new ones
    /// are refused. A proxy that was already disabled stays disabled, and is not re-enabled afterwards.
    public func withOutage<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let client = self.client
        let proxy = self.name
        return try await Self.scoped(
            apply: { () async throws -> Bool in
                guard try await client.proxy(named: proxy).enabled else { return false }
                _ = try await client.updateProxy(named: proxy, enabled: false)
                return true
            },
            undo: { disabledHere in
                if disabledHere { _ = try await client.updateProxy(named: proxy, enabled: true) }
            },
            { _ in try await body() }
        )
    }

    // MARK: Plumbing

    /// Applies a change, runs `body`, and undoes the change whatever happens. Both the change and its undo run
    /// in unstructured tasks: a cancellation arriving mid-request must neither leave a change the caller does
    /// not know about nor skip the undo. The body's error wins over the undo's.
    private static func scoped<Change: Sendable, Result>(
        apply: @escaping @Sendable () async throws -> Change,
        undo: @escaping @Sendable (Change) async throws -> Void,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Change) async throws -> Result
    ) async throws -> Result {
        let change = try await Task { try await apply() }.value
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await body(change))
        } catch {
            outcome = .failure(error)
        }
        let undone = await Task { try await undo(change) }.result
        switch outcome {
        case .success(let value):
            try undone.get()
            return value
        case .failure(let error):
            throw error
        }
    }

    /// A toxic name no other helper picks: 64 random bits.
    static func scopedName(type: String, stream: StreamDirection) -> String {
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        return "scoped_\(type)_\(stream.rawValue)_\(suffix)"
    }
}

extension Duration {
    /// Whole milliseconds, rounded towards zero (the unit of toxic attributes).
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
