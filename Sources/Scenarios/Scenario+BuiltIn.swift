import ToxiproxyModel

extension Scenario {
    /// What `toxictl latency|timeout|outage enable --for D` runs: one impaired phase that reverts itself. The
    /// phase (and the scenario) is named after the impairment, e.g. `latency 500ms`.
    public static func single(
        proxy: String,
        impairment: Impairment,
        for duration: Duration,
        lease: Lease = .heartbeat(grace: Lease.defaultGrace)
    ) -> Scenario {
        let label = impairment.label
        return Scenario(
            name: label,
            proxies: [proxy],
            bound: duration,
            lease: lease,
            timeline: [.phase(PhaseSpec(name: label, duration: duration, impairment: impairment))]
        )
    }

    /// What `toxictl flap` runs on a server with scenarios: `iterations` × (up, down), or until stopped when
    /// `iterations` is 0 (bounded by `bound`, 24h when nil). Phases are named `up #N` and `down #N`.
    public static func flap(
        proxy: String,
        up: Duration,
        down: Duration,
        impairment: Impairment,
        iterations: Int,
        bound: Duration?,
        lease: Lease = .heartbeat(grace: Lease.defaultGrace)
    ) -> Scenario {
        let endless = iterations <= 0
        let scenario = Scenario(
            name: "flap",
            proxies: [proxy],
            bound: endless ? (bound ?? Scenario.maximumBound) : bound,
            lease: lease,
            timeline: [
                .repeatBlock(
                    count: endless ? nil : iterations,
                    items: [
                        .phase(PhaseSpec(name: "up", duration: up)),
                        .phase(PhaseSpec(name: "down", duration: down, impairment: impairment)),
                    ]
                )
            ]
        )
        // Fill in the bound of a finite flap; an invalid one is left for the server's validation to report.
        return (try? scenario.validated()) ?? scenario
    }
}

extension Impairment {
    /// A short label: `latency 500ms`, `latency 500ms ±50ms`, `timeout 0ms`, `bandwidth 100KB/s`, `outage`,
    /// the `toxics` entries' names, joined with ` + `; `healthy` for none.
    public var label: String {
        var parts: [String] = []
        if let latency = self.latency {
            parts.append(
                "latency \(latency.milliseconds)ms"
                    + (latency.jitterMilliseconds > 0 ? " ±\(latency.jitterMilliseconds)ms" : "")
            )
        }
        if let timeout = self.timeout { parts.append("timeout \(timeout.milliseconds)ms") }
        if let bandwidth = self.bandwidth { parts.append("bandwidth \(bandwidth.rate)KB/s") }
        if self.outage { parts.append("outage") }
        parts += self.toxics.map(\.name)
        return parts.isEmpty ? "healthy" : parts.joined(separator: " + ")
    }
}
