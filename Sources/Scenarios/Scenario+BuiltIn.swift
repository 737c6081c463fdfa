import ToxiproxyModel

extension Scenario {
    /// What `toxictl latency|timeout|outage enable --for D` runs: one impaired phase that reverts itself.
    public static func single(
        proxy: String,
        impairment: Impairment,
        for duration: Duration,
        lease: Lease = .heartbeat(grace: Lease.defaultGrace)
    ) -> Scenario {
        fatalError("unimplemented")
    }

    /// What `toxictl flap` runs on a server with scenarios: `iterations` × (up, down), or until stopped when
    /// `iterations` is 0 (bounded by `bound`).
    public static func flap(
        proxy: String,
        up: Duration,
        down: Duration,
        impairment: Impairment,
        iterations: Int,
        bound: Duration?,
        lease: Lease = .heartbeat(grace: Lease.defaultGrace)
    ) -> Scenario {
        fatalError("unimplemented")
    }
}
