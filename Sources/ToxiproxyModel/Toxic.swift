/// A toxic as stored on a proxy and reported by the API.
public struct Toxic: Sendable, Equatable {
    /// Unique per proxy across both directions.
    public var name: String
    public var type: ToxicType
    /// The `stream` string exactly as the client supplied it (e.g. `UpStream`); it is echoed verbatim.
    public var stream: String
    /// The direction parsed from `stream`.
    public var direction: StreamDirection
    /// The probability of the toxic being active on a link; deliberately not range-checked, like Go.
    public var toxicity: Float
    public var attributes: ToxicAttributes

    /// Creates a toxic; `attributes` default to all zeros for `type`.
    public init(
        name: String,
        type: ToxicType,
        stream: String,
        direction: StreamDirection,
        toxicity: Float = 1,
        attributes: ToxicAttributes? = nil
    ) {
        self.name = name
        self.type = type
        self.stream = stream
        self.direction = direction
        self.toxicity = toxicity
        self.attributes = attributes ?? ToxicAttributes(type: type)
    }
}
