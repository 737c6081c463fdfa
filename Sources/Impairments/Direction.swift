import ToxiproxyModel

/// The operator's direction words: `up` is client (edge) → server (cloud), `down` is server → client.
public enum Direction: String, Sendable, CaseIterable, CustomStringConvertible {
    case up
    case down
    case both

    /// The Toxiproxy streams this direction covers.
    public var streams: [StreamDirection] {
        switch self {
        case .up: [.upstream]
        case .down: [.downstream]
        case .both: [.upstream, .downstream]
        }
    }

    public var description: String { self.rawValue }
}
