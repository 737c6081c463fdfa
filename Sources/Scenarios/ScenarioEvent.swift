/// One entry of a scenario's event stream (`GET /scenarios/{id}/events`, server-sent events). Ids count from 1
/// per scenario, so a client that re-attaches with `Last-Event-ID: N` gets every event after N.
public struct ScenarioEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The scenario was created; its baseline was taken.
        case started
        /// A phase was applied.
        case phase
        /// A phase could not be applied fully (`message` says what failed).
        case error
        /// The scenario ended for `endReason` and its restore is done (`kept` lists what it left as it was);
        /// always the last event.
        case ended
    }

    public var id: Int
    public var kind: Kind
    /// Milliseconds since the scenario's start.
    public var atMs: Double
    /// For `phase`: the phase applied.
    public var phase: ScenarioStatus.PhaseRef?
    /// For `phase`: how late it was applied, and how many phases were skipped because the server was late.
    public var latenessMs: Double?
    public var skipped: Int?
    public var endReason: EndReason?
    public var kept: [KeptChange]
    public var message: String?

    public init(
        id: Int,
        kind: Kind,
        atMs: Double,
        phase: ScenarioStatus.PhaseRef? = nil,
        latenessMs: Double? = nil,
        skipped: Int? = nil,
        endReason: EndReason? = nil,
        kept: [KeptChange] = [],
        message: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.atMs = atMs
        self.phase = phase
        self.latenessMs = latenessMs
        self.skipped = skipped
        self.endReason = endReason
        self.kept = kept
        self.message = message
    }
}

// For the error that lists the allowed values of a wire field.
extension ScenarioEvent.Kind: CaseIterable {}
