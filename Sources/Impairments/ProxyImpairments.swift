import ToxiproxyClient
import ToxiproxyModel

/// The operator's impairments on one proxy, each an idempotent change computed from the proxy's current
/// state. Each touches only its own toxics (or, for an outage, only the proxy's enabled flag), so one never
/// undoes another: ending a timeout does not end an outage.
public struct ProxyImpairments: Sendable {
    /// Toxic names for one impairment, per stream.
    public struct ToxicNames: Sendable, Equatable {
        public var upstream: String
        public var downstream: String

        public init(upstream: String, downstream: String) {
            self.upstream = upstream
            self.downstream = downstream
        }

        public func name(for stream: StreamDirection) -> String {
            stream == .upstream ? self.upstream : self.downstream
        }

        var all: [String] { [self.upstream, self.downstream] }
    }

    public var proxy: String
    public var latencyNames: ToxicNames
    public var timeoutNames: ToxicNames

    public init(
        proxy: String = "api_groundlight_ai",
        latencyNames: ToxicNames = ToxicNames(upstream: "fixed_latency_up", downstream: "fixed_latency_down"),
        timeoutNames: ToxicNames = ToxicNames(upstream: "timeout_up", downstream: "timeout_down")
    ) {
        self.proxy = proxy
        self.latencyNames = latencyNames
        self.timeoutNames = timeoutNames
    }

    // MARK: Latency

    /// Latency on the selected streams (created, or updated in place); the other stream is left as it is.
    public func enableLatency(
        milliseconds: Int64,
        jitter: Int64,
        direction: Direction,
        current: Proxy
    ) -> [APICall] {
        direction.streams.flatMap { stream in
            self.ensure(
                ToxicDefinition(
                    name: self.latencyNames.name(for: stream),
                    type: ToxicType.latency.name,
                    stream: stream,
                    attributes: [("latency", milliseconds), ("jitter", jitter)]
                ),
                current: current
            )
        }
    }

    public func disableLatency(current: Proxy) -> [APICall] {
        self.remove(self.latencyNames.all, current: current)
    }

    // MARK: Timeout

    /// Timeout toxics on the selected streams; a timeout toxic of ours on the other stream is removed.
    public func enableTimeout(milliseconds: Int64, direction: Direction, current: Proxy) -> [APICall] {
        let selected = direction.streams
        let unselected = StreamDirection.allCases.filter { !selected.contains($0) }
        let removals = self.remove(unselected.map { self.timeoutNames.name(for: $0) }, current: current)
        let additions = selected.flatMap { stream in
            self.ensure(
                ToxicDefinition(
                    name: self.timeoutNames.name(for: stream),
                    type: ToxicType.timeout.name,
                    stream: stream,
                    attributes: [("timeout", milliseconds)]
                ),
                current: current
            )
        }
        return removals + additions
    }

    /// Removes our timeout toxics only; a disabled proxy (an outage) stays disabled.
    public func disableTimeout(current: Proxy) -> [APICall] {
        self.remove(self.timeoutNames.all, current: current)
    }

    // MARK: Outage

    /// An outage is the proxy disabled: its listener closed, live connections closed, new ones refused.
    public func setOutage(_ outage: Bool, current: Proxy) -> [APICall] {
        guard current.enabled == outage else { return [] }
        return [.setProxyEnabled(proxy: self.proxy, enabled: !outage)]
    }

    // MARK: Reset

    /// Every impairment of ours removed and the proxy enabled; toxics that others added stay.
    public func reset(current: Proxy) -> [APICall] {
        self.remove(self.latencyNames.all + self.timeoutNames.all, current: current)
            + self.setOutage(false, current: current)
    }

    // MARK: Restoring a snapshot

    /// The calls that bring `current` back to `snapshot` for the toxics named `names` and the enabled flag:
    /// what a flap does when it stops.
    public func restore(_ snapshot: Proxy, names: [String], current: Proxy) -> [APICall] {
        var calls = self.restoreToxics(snapshot, names: names, current: current)
        if snapshot.enabled != current.enabled {
            calls.append(.setProxyEnabled(proxy: self.proxy, enabled: snapshot.enabled))
        }
        return calls
    }

    /// The toxics named `names` as they were in `snapshot`: removed if they did not exist, otherwise updated in
    /// place, so that they keep their position in the chain.
    public func restoreToxics(_ snapshot: Proxy, names: [String], current: Proxy) -> [APICall] {
        var calls: [APICall] = []
        for name in names {
            let before = snapshot.toxics.first { $0.name == name }
            let now = current.toxics.first { $0.name == name }
            switch (before, now) {
            case (nil, .some):
                calls.append(.removeToxic(proxy: self.proxy, name: name))
            case (.some(let before), _):
                calls += self.ensure(Self.definition(of: before), current: current)
            case (nil, nil):
                break
            }
        }
        return calls
    }

    // MARK: Helpers

    /// Creates the toxic, or updates it in place when it exists with the same type and stream (recreating it
    /// otherwise); nothing when it is already as wanted.
    private func ensure(_ wanted: ToxicDefinition, current: Proxy) -> [APICall] {
        guard let name = wanted.name, let existing = current.toxics.first(where: { $0.name == name }) else {
            return [.addToxic(proxy: self.proxy, wanted)]
        }
        guard existing.type.name == wanted.type, existing.direction == wanted.stream,
            existing.toxicity == wanted.toxicity
        else {
            return [.removeToxic(proxy: self.proxy, name: name), .addToxic(proxy: self.proxy, wanted)]
        }
        let differs = wanted.attributes.contains { existing.attributes[$0.name] != $0.value }
        return differs ? [.updateToxic(proxy: self.proxy, name: name, attributes: wanted.attributes)] : []
    }

    private func remove(_ names: [String], current: Proxy) -> [APICall] {
        names.filter { name in current.toxics.contains { $0.name == name } }
            .map { .removeToxic(proxy: self.proxy, name: $0) }
    }

    static func definition(of toxic: Toxic) -> ToxicDefinition {
        ToxicDefinition(
            name: toxic.name,
            type: toxic.type.name,
            stream: toxic.direction,
            toxicity: toxic.toxicity,
            attributes: toxic.attributes.values.map { ($0.name, $0.value) }
        )
    }
}
