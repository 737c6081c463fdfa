import Testing
import ToxiproxyModel

@Suite struct ToxicTypeTests {
    @Test func registeredTypes() {
        #expect(
            ToxicType.registered.map(\.name) == [
                "latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data", "noop",
            ]
        )
    }

    @Test func lookupIsExactAndCaseSensitive() {
        #expect(ToxicType.named("latency") == .latency)
        #expect(ToxicType.named("noop") == .noop)
        #expect(ToxicType.named("Latency") == nil)
        #expect(ToxicType.named("") == nil)
        #expect(ToxicType.named("bandwidth") == .bandwidth)
        #expect(ToxicType.named("slow_close") == .slowClose)
        #expect(ToxicType.named("packet_loss") == nil, "unreleased upstream; not defined here")
    }

    @Test func attributesAreInGoFieldOrder() {
        #expect(ToxicType.latency.attributeNames == ["latency", "jitter"])
        #expect(ToxicType.timeout.attributeNames == ["timeout"])
        #expect(ToxicType.noop.attributeNames == [])
        #expect(ToxicType.bandwidth.attributeNames == ["rate"])
        #expect(ToxicType.slowClose.attributeNames == ["delay"])
        #expect(ToxicType.resetPeer.attributeNames == ["timeout"])
        #expect(ToxicType.slicer.attributeNames == ["average_size", "size_variation", "delay"])
        #expect(ToxicType.limitData.attributeNames == ["bytes"])
    }

    @Test func wireAndGoNames() {
        let types: [ToxicType] = [.latency, .timeout, .noop, .bandwidth, .slowClose, .resetPeer, .slicer, .limitData]
        #expect(
            types.map(\.name) == [
                "latency", "timeout", "noop", "bandwidth", "slow_close", "reset_peer", "slicer", "limit_data",
            ]
        )
        #expect(
            types.map(\.goTypeName) == [
                "LatencyToxic", "TimeoutToxic", "NoopToxic", "BandwidthToxic", "SlowCloserToxic", "ResetToxic",
                "SlicerToxic", "LimitDataToxic",
            ]
        )
        #expect(ToxicType.slowClose.description == "slow_close")
    }
}
