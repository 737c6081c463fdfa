import NIOCore
import ToxiproxyModel

/// One toxic's instance on one connection direction. Stages live on their link's event loop and are
/// chained in toxic creation order; a stage hands what it lets through to `DirectionChain.forward`.
protocol ToxicStage: AnyObject {
    var name: String { get }
    /// Whether removing this toxic closes the connection (the reference's timeout cleanup hook).
    var closesConnectionOnRemoval: Bool { get }
    /// Whether the toxic acts on this connection direction (its toxicity draw said so); for the metrics.
    var isActive: Bool { get }
    /// An element from the stage before (or from the source socket).
    func receive(_ element: StreamElement)
    /// The toxic was updated: take its new attributes and toxicity, and restart (fresh toxicity draw).
    func update(_ toxic: Toxic)
    /// A neighbour was added or removed: restart with a fresh toxicity draw.
    func restart()
    /// The toxic is being removed: stop timers and give back everything held, in order.
    func remove() -> [StreamElement]
    /// The link is going away: stop timers, drop what is held.
    func shutdown()
}

extension DirectionChain {
    /// The stage that runs `toxic` on this chain. Adding a toxic type means adding its case here.
    func makeStage(for toxic: Toxic) -> any ToxicStage {
        switch toxic.type {
        case .latency:
            LatencyStage(toxic: toxic, chain: self)
        case .timeout:
            TimeoutStage(toxic: toxic, chain: self)
        case .bandwidth:
            BandwidthStage(toxic: toxic, chain: self)
        case .slowClose:
            SlowCloseStage(toxic: toxic, chain: self)
        case .resetPeer:
            ResetPeerStage(toxic: toxic, chain: self)
        case .slicer:
            SlicerStage(toxic: toxic, chain: self)
        case .limitData:
            LimitDataStage(toxic: toxic, chain: self)
        default:
            PassThroughStage(name: toxic.name, chain: self)
        }
    }
}

/// `noop`: lets everything through unchanged.
final class PassThroughStage: ToxicStage {
    let name: String
    var closesConnectionOnRemoval: Bool { false }
    var isActive: Bool { true }
    private unowned let chain: DirectionChain

    init(name: String, chain: DirectionChain) {
        self.name = name
        self.chain = chain
    }

    func receive(_ element: StreamElement) {
        self.chain.forward(element, from: self)
    }

    func update(_ toxic: Toxic) {}
    func restart() {}
    func remove() -> [StreamElement] { [] }
    func shutdown() {}
}
