/// A kind of toxic and the integer attributes it accepts.
public struct ToxicType: Sendable, Hashable, CustomStringConvertible {
    /// The `type` string used on the wire, e.g. `latency`.
    public let name: String
    /// The attribute keys in Go struct field order, which is also the order they are emitted in.
    public let attributeNames: [String]
    /// The Go struct name, used in decode error messages (e.g. `LatencyToxic`).
    public let goTypeName: String
    /// The Go type of the attribute fields as named in error messages (`int64`, or `int` for slicer).
    let attributeGoType: String

    init(name: String, attributeNames: [String], goTypeName: String, attributeGoType: String = "int64") {
        self.name = name
        self.attributeNames = attributeNames
        self.goTypeName = goTypeName
        self.attributeGoType = attributeGoType
    }

    public var description: String { name }

    /// Delays data: `latency` ms plus up to ± `jitter` ms.
    public static let latency = ToxicType(
        name: "latency",
        attributeNames: ["latency", "jitter"],
        goTypeName: "LatencyToxic"
    )
    /// Drops data and closes the connection after `timeout` ms without traffic.
    public static let timeout = ToxicType(name: "timeout", attributeNames: ["timeout"], goTypeName: "TimeoutToxic")
    /// Passes data through unchanged.
    public static let noop = ToxicType(name: "noop", attributeNames: [], goTypeName: "NoopToxic")
    /// Limits throughput to `rate` KB/s.
    public static let bandwidth = ToxicType(name: "bandwidth", attributeNames: ["rate"], goTypeName: "BandwidthToxic")
    /// Delays the close by `delay` ms.
    public static let slowClose = ToxicType(
        name: "slow_close",
        attributeNames: ["delay"],
        goTypeName: "SlowCloserToxic"
    )
    /// Resets the connection `timeout` ms after the first chunk.
    public static let resetPeer = ToxicType(name: "reset_peer", attributeNames: ["timeout"], goTypeName: "ResetToxic")
    /// Slices data into smaller pieces with a `delay` µs pause between them.
    public static let slicer = ToxicType(
        name: "slicer",
        attributeNames: ["average_size", "size_variation", "delay"],
        goTypeName: "SlicerToxic",
        attributeGoType: "int"
    )
    /// Closes the connection after `bytes` bytes.
    public static let limitData = ToxicType(name: "limit_data", attributeNames: ["bytes"], goTypeName: "LimitDataToxic")

    /// The types that can be created through the API.
    public static let registered: [ToxicType] = [
        .latency, .bandwidth, .slowClose, .timeout, .resetPeer, .slicer, .limitData, .noop,
    ]

    /// The registered type with exactly this name (case-sensitive, like Go's registry map).
    public static func named(_ name: String) -> ToxicType? {
        registered.first { $0.name == name }
    }
}
