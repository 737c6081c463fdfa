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

    /// Whether closing this link resets both sockets (RST) instead of closing them (FIN): the reference sets
    /// SO_LINGER 0 on connections accepted while a `reset_peer` toxic is in place, whatever its toxicity.
    let resetsOnClose: Bool

    private let toxicSource: any ToxicSource
    /// The `ToxicSet.version` the chains were last brought up to.
    private var toxicVersion: Int

    /// - Parameters:
    ///   - toxics: the proxy's toxics when the client was accepted.
    ///   - toxicSource: where later versions of them are read (see `catchUpWithToxics()`).
    init(eventLoop: any EventLoop, toxics: ToxicSet, toxicSource: any ToxicSource, logger: Logger) {
        self.eventLoop = eventLoop
        self.logger = logger
        self.toxicSource = toxicSource
        self.toxicVersion = toxics.version
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
        self.upstreamOpen = true
        self.upstreamReady = true
        let bound = NIOLoopBound(self, eventLoop: self.eventLoop)
        channel.closeFuture.whenComplete { _ in bound.value.socketClosed(.upstream) }
        channel.setOption(.autoRead, value: true).whenComplete { _ in }
        self.clientHandler.resumeReadingIfPending()
    }

    func upstreamFailed(_ error: any Error, upstream: String) {
        if !self.isClosing {
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
        self.catchUpWithToxics()
        self.chain(from: side).receive(element)
    }

    func readBurstEnded(from side: Side) {
        self.flush(self.chain(from: side))
    }

    func channelClosed(_ side: Side) {
        self.catchUpWithToxics()
        // The source's end travels through the chain behind its data; nothing more can reach this side.
        self.chain(from: side).performEvent {
            self.chain(from: side).receive(.end)
        }
        self.chain(into: side).shutdown()
        if side == .client, !self.upstreamReady {
            self.close()
        }
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
        let chain = self.chain(from: side)
        return chain.canAcceptMore && (self.destinationHandler(of: chain)?.isWritable ?? false)
    }

    // MARK: Used by the chains

    func sink(_ element: StreamElement, from chain: DirectionChain) {
        guard let destination = self.destinationHandler(of: chain) else {
            self.close()
            return
        }
        switch element {
        case .chunk(let chunk):
            destination.write(chunk.bytes)
            self.setNeedsFlush(chain.direction)
            self.sourceHandler(of: chain)?.resumeReadingIfPending()
        case .end:
            // The reference closes the destination fully rather than half-closing it.
            destination.closeAfterPendingWrites()
        }
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

    var heldByteCount: Int { self.upstreamChain.bufferedBytes + self.downstreamChain.bufferedBytes }

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
