import Logging
import NIOCore
import ToxiproxyModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One proxied connection: the client channel, its upstream channel, and a toxic chain per direction.
///
/// Everything here runs on the client channel's event loop; the upstream channel is created on the same
/// loop, so the two halves never need a lock to talk to each other.
final class ConnectionLink {
    enum Side {
        /// The accepted client socket: source of the upstream direction.
        case client
        /// The socket to the upstream server: source of the downstream direction.
        case upstream
    }

    let eventLoop: any EventLoop
    private let logger: Logger
    private var onFinish: (() -> Void)?
    private(set) var clientHandler: GlueHandler!
    private var upstreamHandler: GlueHandler?
    private var upstreamChannel: (any Channel)?
    private var upstreamReady = false
    private(set) var upstreamChain: DirectionChain!
    private(set) var downstreamChain: DirectionChain!
    private var needsFlush: (upstream: Bool, downstream: Bool) = (false, false)
    private var clientOpen = true
    private var upstreamOpen = false
    private var isClosing = false
    /// Sources whose end (a FIN, or the socket's close) has entered their direction's chain.
    private var sourceEnded: (client: Bool, upstream: Bool) = (false, false)
    /// Directions that can carry nothing more: their end was delivered, or their destination is gone. The
    /// link closes when both have.
    private var directionDone: (upstream: Bool, downstream: Bool) = (false, false)
    /// The first flight to the upstream, one segment until the upstream has a socket for us.
    private var firstSegmentGate = FirstSegmentGate()
    private var upstreamSegmentSize = 1400
    /// Until when the upstream may take to accept us, from the start of the dial.
    private let dialDeadline: NIODeadline

    /// Whether closing this link resets both sockets (RST) instead of closing them (FIN): the reference sets
    /// SO_LINGER 0 on connections accepted while a `reset_peer` toxic is in place, whatever its toxicity.
    let resetsOnClose: Bool

    private let toxicSource: any ToxicSource
    /// The proxy's metrics (nil without `-proxy-metrics`), and the byte counters bumped as bytes flow.
    let proxyMetrics: ProxyMetrics?
    private let byteCounters: LinkByteCounters?
    private let activity: ProxyActivity
    /// Whether the proxy cut this connection itself (counted once).
    private var wasCut = false
    /// The `ToxicSet.version` the chains were last brought up to.
    private var toxicVersion: Int

    /// - Parameters:
    ///   - toxics: the proxy's toxics when the client was accepted.
    ///   - toxicSource: where later versions of them are read (see `catchUpWithToxics()`).
    ///   - dialTimeout: how long the upstream may take to connect and to acknowledge our first segment.
    init(
        eventLoop: any EventLoop,
        toxics: ToxicSet,
        toxicSource: any ToxicSource,
        dialTimeout: TimeAmount,
        metrics: ProxyMetrics? = nil,
        byteCounters: LinkByteCounters? = nil,
        activity: ProxyActivity = ProxyActivity(),
        logger: Logger
    ) {
        self.activity = activity
        self.proxyMetrics = metrics
        self.byteCounters = byteCounters
        self.eventLoop = eventLoop
        self.logger = logger
        self.toxicSource = toxicSource
        self.toxicVersion = toxics.version
        self.dialDeadline = .now() + dialTimeout
        self.resetsOnClose = toxics.toxics.contains { $0.type == .resetPeer }
        self.clientHandler = GlueHandler(side: .client, link: self)
        self.upstreamChain = DirectionChain(direction: .upstream, toxics: toxics.upstream, link: self)
        self.downstreamChain = DirectionChain(direction: .downstream, toxics: toxics.downstream, link: self)
    }

    /// `onFinish` runs once, on the event loop, when both sockets are closed.
    func setOnFinish(_ onFinish: @escaping () -> Void) {
        self.onFinish = onFinish
    }

    // MARK: Sockets

    /// Tracks the client socket's lifetime; its close future fires even if it never became active.
    func watchClient(_ channel: any Channel) {
        self.applyResetOnClose(to: channel)
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        channel.closeFuture.whenComplete { _ in bound.value.socketClosed(.client) }
    }

    /// The upstream connected (its channel was created with auto-read off, so nothing was read yet):
    /// glue it to the client and start reading both sides.
    func upstreamConnected(_ channel: any Channel) {
        guard !self.isClosing else {
            channel.close(promise: nil)
            return
        }
        let handler = GlueHandler(side: .upstream, link: self)
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            channel.close(promise: nil)
            self.upstreamFailed(error, upstream: "\(channel.remoteAddress.map { "\($0)" } ?? "?")")
            return
        }
        self.upstreamHandler = handler
        self.upstreamChannel = channel
        self.applyResetOnClose(to: channel)
        if let segmentSize = TCPInfo.sendSegmentSize(of: channel) {
            self.upstreamSegmentSize = segmentSize
        }
        self.upstreamOpen = true
        self.upstreamReady = true
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        channel.closeFuture.whenComplete { _ in bound.value.socketClosed(.upstream) }
        channel.setOption(.autoRead, value: true).whenComplete { _ in }
        for element in self.firstSegmentGate.connected() {
            self.sink(element, from: self.upstreamChain)
        }
        self.flush(self.upstreamChain)
        self.clientHandler.resumeReadingIfPending()
    }

    func upstreamFailed(_ error: any Error, upstream: String) {
        if !self.isClosing {
            self.proxyMetrics?.dialFailed()
            self.activity.dialFailed()
            self.logger.error(
                "Unable to open connection to upstream",
                metadata: ["upstream": "\(upstream)", "error": "\(error)"]
            )
            // The client sees its connection open and then close, as with the reference.
            self.close()
        }
    }

    // MARK: Events from the glue handlers

    func received(_ element: StreamElement, from side: Side) {
        if side == .upstream {
            // Bytes from the upstream prove it has a socket for us.
            self.openFirstSegmentGate()
        }
        if let byteCounters = self.byteCounters {
            byteCounters.received(element.byteCount, direction: side == .client ? .upstream : .downstream)
        }
        self.activity.received(element.byteCount, fromClient: side == .client)
        self.catchUpWithToxics()
        self.chain(from: side).receive(element)
    }

    func readBurstEnded(from side: Side) {
        self.flush(self.chain(from: side))
    }

    /// The source sent its end of stream (FIN) and may still read: the end travels through its chain behind
    /// the data, and the other direction goes on.
    func inputEnded(_ side: Side) {
        if side == .upstream {
            self.openFirstSegmentGate()
        }
        self.endSource(side, with: .end)
    }

    func channelClosed(_ side: Side) {
        // A socket that closed without its FIN first (a reset, an error, or the end of both directions) ends
        // its source too; what it had sent still goes out ahead of the end.
        self.endSource(side, with: .close)
        // Nothing more can reach this socket.
        self.chain(into: side).shutdown()
        self.markDone(self.chain(into: side).direction)
        if side == .client, !self.upstreamReady {
            self.close()
        }
    }

    private func endSource(_ side: Side, with end: StreamElement) {
        switch side {
        case .client:
            guard !self.sourceEnded.client else { return }
            self.sourceEnded.client = true
        case .upstream:
            guard !self.sourceEnded.upstream else { return }
            self.sourceEnded.upstream = true
        }
        self.catchUpWithToxics()
        let chain = self.chain(from: side)
        chain.performEvent { chain.receive(end) }
    }

    private func applyResetOnClose(to channel: any Channel) {
        guard self.resetsOnClose else { return }
        // A failure only means a plain close (FIN) instead of a reset; not worth failing the connection.
        (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in }
    }

    private func socketClosed(_ side: Side) {
        switch side {
        case .client: self.clientOpen = false
        case .upstream: self.upstreamOpen = false
        }
        guard !self.clientOpen && !self.upstreamOpen, let onFinish = self.onFinish else { return }
        self.onFinish = nil
        onFinish()
    }

    func destinationBecameWritable(_ side: Side) {
        self.sourceHandler(of: self.chain(into: side))?.resumeReadingIfPending()
    }

    func canRead(from side: Side) -> Bool {
        guard self.upstreamReady, !self.isClosing else { return false }
        if side == .client, self.firstSegmentGate.state == .awaitingAcknowledgement { return false }
        let chain = self.chain(from: side)
        return chain.canAcceptMore && (self.destinationHandler(of: chain)?.isWritable ?? false)
    }

    // MARK: Used by the chains

    func sink(_ element: StreamElement, from chain: DirectionChain) {
        guard chain.direction == .upstream, self.firstSegmentGate.state != .open else {
            self.write(element, from: chain)
            return
        }
        switch self.firstSegmentGate.admit(element, segmentSize: self.upstreamSegmentSize) {
        case .pass(let element):
            self.write(element, from: chain)
        case .probe(let chunk):
            self.sendFirstSegment(chunk)
        case .hold:
            break
        }
    }

    private func write(_ element: StreamElement, from chain: DirectionChain) {
        guard let destination = self.destinationHandler(of: chain) else {
            self.close()
            return
        }
        switch element {
        case .chunk(let chunk):
            self.byteCounters?.sent(chunk.bytes.readableBytes, direction: chain.direction)
            if chain.direction == .downstream {
                self.activity.deliveredToClient()
            }
            destination.write(chunk.bytes)
            self.setNeedsFlush(chain.direction)
            self.sourceHandler(of: chain)?.resumeReadingIfPending()
        case .end:
            let direction = chain.direction
            destination.shutdownOutputAfterPendingWrites { [self] in
                self.markDone(direction)
            }
        case .close:
            destination.closeAfterPendingWrites()
        }
    }

    /// A direction can carry nothing more; with both done the connection is over.
    private func markDone(_ direction: StreamDirection) {
        switch direction {
        case .upstream: self.directionDone.upstream = true
        case .downstream: self.directionDone.downstream = true
        }
        if self.directionDone.upstream && self.directionDone.downstream {
            self.close()
        }
    }

    // MARK: The first segment to the upstream

    private func sendFirstSegment(_ chunk: Chunk) {
        guard let upstream = self.upstreamHandler else {
            self.close()
            return
        }
        self.byteCounters?.sent(chunk.bytes.readableBytes, direction: .upstream)
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        upstream.writeAndFlush(chunk.bytes) { written in
            guard written else { return }
            bound.value.awaitFirstAcknowledgement(retry: 0)
        }
    }

    /// Polls the upstream socket until its kernel has acknowledged everything sent, which on loopback has
    /// usually happened by the time the write returned; backs off from 1 ms to 64 ms between looks.
    private func awaitFirstAcknowledgement(retry: Int) {
        guard self.firstSegmentGate.state == .awaitingAcknowledgement, !self.isClosing,
            let channel = self.upstreamChannel
        else { return }
        if TCPInfo.unacknowledgedSegments(of: channel) == 0 {
            self.openFirstSegmentGate()
            return
        }
        guard NIODeadline.now() < self.dialDeadline else {
            self.logger.error(
                "The upstream did not acknowledge the first bytes in time",
                metadata: ["upstream": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"]
            )
            self.close()
            return
        }
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        self.eventLoop.scheduleTask(in: .milliseconds(1 << min(retry, 6))) {
            bound.value.awaitFirstAcknowledgement(retry: retry + 1)
        }
    }

    private func openFirstSegmentGate() {
        guard self.firstSegmentGate.state != .open else { return }
        let held = self.firstSegmentGate.open()
        for element in held {
            self.write(element, from: self.upstreamChain)
        }
        self.flush(self.upstreamChain)
        self.clientHandler.resumeReadingIfPending()
    }

    func chainDidRelease(_ chain: DirectionChain) {
        self.sourceHandler(of: chain)?.resumeReadingIfPending()
    }

    func flush(_ chain: DirectionChain) {
        switch chain.direction {
        case .upstream:
            guard self.needsFlush.upstream else { return }
            self.needsFlush.upstream = false
        case .downstream:
            guard self.needsFlush.downstream else { return }
            self.needsFlush.downstream = false
        }
        self.destinationHandler(of: chain)?.flush()
    }

    /// Closes both sockets now, discarding anything held by toxics.
    func close() {
        guard !self.isClosing else { return }
        self.isClosing = true
        self.clientHandler.close()
        if let upstreamChannel = self.upstreamChannel {
            upstreamChannel.close(promise: nil)
        }
    }

    /// Closes both sockets now because the proxy itself ends the connection (a toxic, an outage): counted as
    /// a cut unless the link was already closing.
    func cut() {
        guard !self.isClosing else { return }
        self.countCut()
        self.close()
    }

    /// Counts a cut that closes the connection by another route (`limit_data` closes after its last bytes).
    func countCut() {
        guard !self.wasCut, !self.isClosing else { return }
        self.wasCut = true
        self.activity.connectionCut()
    }

    var heldByteCount: Int {
        self.upstreamChain.bufferedBytes + self.downstreamChain.bufferedBytes + self.firstSegmentGate.heldBytes
    }

    // MARK: Live toxic changes

    /// Applies the toxic changes made since the last call, if any. Runs before every byte and end of stream
    /// a socket delivers, so nothing read after an admin change returned bypasses it; the proxy also calls it
    /// right after each change, for the toxics that act on an idle connection (timeouts).
    func catchUpWithToxics() {
        guard let toxics = self.toxicSource.toxics(ifNewerThan: self.toxicVersion) else { return }
        self.toxicVersion = toxics.version
        self.upstreamChain.catchUp(to: toxics.upstream)
        self.downstreamChain.catchUp(to: toxics.downstream)
    }

    // MARK: Topology

    private func chain(from side: Side) -> DirectionChain {
        side == .client ? self.upstreamChain : self.downstreamChain
    }

    private func chain(into side: Side) -> DirectionChain {
        side == .client ? self.downstreamChain : self.upstreamChain
    }

    private func sourceHandler(of chain: DirectionChain) -> GlueHandler? {
        chain.direction == .upstream ? self.clientHandler : self.upstreamHandler
    }

    private func destinationHandler(of chain: DirectionChain) -> GlueHandler? {
        chain.direction == .upstream ? self.upstreamHandler : self.clientHandler
    }

    private func setNeedsFlush(_ direction: StreamDirection) {
        switch direction {
        case .upstream: self.needsFlush.upstream = true
        case .downstream: self.needsFlush.downstream = true
        }
    }
}

/// Where a link reads its proxy's toxics once they have changed.
protocol ToxicSource: AnyObject, Sendable {
    /// The current set when its version is not `version`, else nil; called for every chunk read, so the
    /// answer "unchanged" must be cheap.
    func toxics(ifNewerThan version: Int) -> ToxicSet?
}
