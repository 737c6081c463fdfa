import NIOConcurrencyHelpers
import Prometheus
import ToxiproxyModel

/// The server's Prometheus metrics (`GET /metrics`), present when `-proxy-metrics` or `-runtime-metrics` is set.
///
/// Proxy metrics live in a swift-prometheus `PrometheusCollectorRegistry` of this server's own (not the
/// process-wide swift-metrics bootstrap, so several servers in one process, as in the tests, stay apart).
/// The data path holds the `Counter` objects themselves: `Counter.increment(by:)` is one relaxed atomic add
/// on a `ManagedAtomic<Int64>`, with no lock and no allocation, and the registry's lock is taken only when a
/// series is created (a proxy started, a toxic first active) or removed, and at scrape time. Process metrics
/// are read from `/proc/self` at scrape time and rendered by `ProcessMetrics`.
public final class ServerMetrics: Sendable {
    public let proxyMetricsEnabled: Bool
    public let runtimeMetricsEnabled: Bool
    let registry = PrometheusCollectorRegistry()

    public init(proxyMetrics: Bool, runtimeMetrics: Bool) {
        self.proxyMetricsEnabled = proxyMetrics
        self.runtimeMetricsEnabled = runtimeMetrics
    }

    /// Whether `/metrics` exists at all (the reference's route is absent without either flag).
    public var isEnabled: Bool { self.proxyMetricsEnabled || self.runtimeMetricsEnabled }

    /// The metrics of a new proxy, or nil without `-proxy-metrics` (the data path then counts nothing).
    func makeProxyMetrics(proxy: String) -> ProxyMetrics? {
        guard self.proxyMetricsEnabled else { return nil }
        return ProxyMetrics(registry: self.registry, proxy: proxy)
    }

    /// The whole exposition, in the Prometheus text format 0.0.4.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        if self.proxyMetricsEnabled {
            self.registry.emit(into: &buffer)
        }
        if self.runtimeMetricsEnabled, let sample = ProcessMetrics.read() {
            buffer.append(contentsOf: ProcessMetrics.render(sample).utf8)
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The content type of `exposition()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// Metric names, as documented in the README.
enum MetricName {
    /// The reference's two, with its labels in its order: direction, listener, proxy, upstream.
    static let receivedBytes = "toxiproxy_proxy_received_bytes_total"
    static let sentBytes = "toxiproxy_proxy_sent_bytes_total"
    /// Ours (the reference has none of these).
    static let connectionsAccepted = "toxiproxy_proxy_connections_accepted_total"
    static let connectionsOpen = "toxiproxy_proxy_connections_open"
    static let upstreamDialFailures = "toxiproxy_proxy_upstream_dial_failures_total"
    static let toxicConnections = "toxiproxy_proxy_toxic_connections_total"
}

/// The byte counters a connection bumps as bytes flow, one pair per direction. For each direction,
/// `received` counts bytes read from that direction's source socket (the client for upstream, the upstream
/// server for downstream) and `sent` the bytes written to its destination socket (handed to the channel's
/// write, so bytes still in the outbound buffer when a connection is reset count as sent).
final class LinkByteCounters: Sendable {
    let upstreamReceived: Counter
    let upstreamSent: Counter
    let downstreamReceived: Counter
    let downstreamSent: Counter

    /// A class, so that a connection reading it per chunk retains one reference, not four.
    init(upstreamReceived: Counter, upstreamSent: Counter, downstreamReceived: Counter, downstreamSent: Counter) {
        self.upstreamReceived = upstreamReceived
        self.upstreamSent = upstreamSent
        self.downstreamReceived = downstreamReceived
        self.downstreamSent = downstreamSent
    }

    @inline(__always)
    func received(_ byteCount: Int, direction: StreamDirection) {
        (direction == .upstream ? self.upstreamReceived : self.downstreamReceived).increment(by: Int64(byteCount))
    }

    @inline(__always)
    func sent(_ byteCount: Int, direction: StreamDirection) {
        (direction == .upstream ? self.upstreamSent : self.downstreamSent).increment(by: Int64(byteCount))
    }
}

/// One proxy's series. All of them leave the registry with `remove()` (the proxy deleted or replaced);
/// counters still held by connections closing afterwards keep counting into objects no scrape sees.
final class ProxyMetrics: Sendable {
    private struct State {
        var removed = false
        var byteCounters: [String: LinkByteCounters] = [:]
        var toxicCounters: [String: Counter] = [:]
    }

    let proxy: String
    let accepted: Counter
    let open: Gauge
    let dialFailures: Counter
    private let registry: PrometheusCollectorRegistry
    private let state = NIOLockedValueBox(State())

    init(registry: PrometheusCollectorRegistry, proxy: String) {
        self.registry = registry
        self.proxy = proxy
        let labels = [("proxy", proxy)]
        self.accepted = registry.makeCounter(
            descriptor: .named(MetricName.connectionsAccepted, help: "Client connections accepted by the proxy"),
            labels: labels
        )
        self.open = registry.makeGauge(
            descriptor: .named(MetricName.connectionsOpen, help: "Client connections of the proxy open now"),
            labels: labels
        )
        self.dialFailures = registry.makeCounter(
            descriptor: .named(
                MetricName.upstreamDialFailures,
                help: "Connections to the upstream that could not be opened"
            ),
            labels: labels
        )
    }

    /// Once per connection, at accept.
    func connectionAccepted() {
        self.accepted.increment()
        self.open.increment()
    }

    /// Once per connection, when both its sockets are closed.
    func connectionClosed() {
        self.open.decrement()
    }

    func dialFailed() {
        self.dialFailures.increment()
    }

    /// The counters for connections accepted while the proxy listens on `listener` for `upstream` (the
    /// reference's label set: one series per distinct listen and upstream string). Called when it starts.
    func byteCounters(listener: String, upstream: String) -> LinkByteCounters {
        self.state.withLockedValue { state in
            let key = "\(listener)\u{0}\(upstream)"
            if let existing = state.byteCounters[key] { return existing }
            func make(_ name: String, _ direction: StreamDirection) -> Counter {
                // The reference's label order (Go's client sorts label names).
                let labels = [
                    ("direction", direction.rawValue), ("listener", listener), ("proxy", self.proxy),
                    ("upstream", upstream),
                ]
                // Registered only while the proxy exists; a removed proxy gets counters no scrape sees. No
                // HELP text, as the reference.
                let registry = state.removed ? PrometheusCollectorRegistry() : self.registry
                return registry.makeCounter(descriptor: .named(name, help: ""), labels: labels)
            }
            let counters = LinkByteCounters(
                upstreamReceived: make(MetricName.receivedBytes, .upstream),
                upstreamSent: make(MetricName.sentBytes, .upstream),
                downstreamReceived: make(MetricName.receivedBytes, .downstream),
                downstreamSent: make(MetricName.sentBytes, .downstream)
            )
            if !state.removed {
                state.byteCounters[key] = counters
            }
            return counters
        }
    }

    /// A toxic's stage became active on a connection (counted once per connection and direction). Runs
    /// once per stage, not per chunk.
    func toxicActivated(_ toxic: Toxic) {
        let counter: Counter? = self.state.withLockedValue { state in
            guard !state.removed else { return nil }
            if let existing = state.toxicCounters[toxic.name] { return existing }
            let counter = self.registry.makeCounter(
                descriptor: .named(
                    MetricName.toxicConnections,
                    help: "Connections (per direction) on which the toxic was active"
                ),
                labels: [
                    ("proxy", self.proxy), ("toxic", toxic.name), ("type", toxic.type.name),
                    ("stream", toxic.stream),
                ]
            )
            state.toxicCounters[toxic.name] = counter
            return counter
        }
        counter?.increment()
    }

    /// The toxic was removed: its series goes.
    func toxicRemoved(named name: String) {
        self.state.withLockedValue { state in
            if let counter = state.toxicCounters.removeValue(forKey: name) {
                self.registry.unregisterCounter(counter)
            }
        }
    }

    /// Every series of the proxy leaves the registry.
    func remove() {
        self.state.withLockedValue { state in
            guard !state.removed else { return }
            state.removed = true
            for counters in state.byteCounters.values {
                self.registry.unregisterCounter(counters.upstreamReceived)
                self.registry.unregisterCounter(counters.upstreamSent)
                self.registry.unregisterCounter(counters.downstreamReceived)
                self.registry.unregisterCounter(counters.downstreamSent)
            }
            for counter in state.toxicCounters.values {
                self.registry.unregisterCounter(counter)
            }
            state.byteCounters = [:]
            state.toxicCounters = [:]
            self.registry.unregisterCounter(self.accepted)
            self.registry.unregisterGauge(self.open)
            self.registry.unregisterCounter(self.dialFailures)
        }
    }
}

extension MetricNameDescriptor {
    /// A descriptor for a full metric name (no namespace or unit parts); an empty `help` emits no HELP line.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
