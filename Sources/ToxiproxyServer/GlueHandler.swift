import NIOCore

/// The handler at the end of each of a link's two channels (the connect-proxy `GlueHandler` pattern).
///
/// Reads go into the link's chain for the direction this channel is the source of. The channel asks to
/// read only while that chain can take more and its destination is writable, so a slow reader on one
/// side pushes back through TCP flow control to the other side instead of filling memory.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let side: ConnectionLink.Side
    /// Cleared when the handler leaves its pipeline, which breaks the link ↔ handler cycle.
    private var link: ConnectionLink?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    init(side: ConnectionLink.Side, link: ConnectionLink) {
        self.side = side
        self.link = link
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.link = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = self.unwrapInboundIn(data)
        self.link?.received(.chunk(Chunk(bytes: bytes, timestamp: .now())), from: self.side)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.link?.readBurstEnded(from: self.side)
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            self.link?.inputEnded(self.side)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.link?.channelClosed(self.side)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Resets and broken pipes end the connection like a close; the close propagates to the partner.
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.link?.destinationBecameWritable(self.side)
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if let link = self.link, link.canRead(from: self.side) {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    // MARK: Used by the link

    var isWritable: Bool { self.context?.channel.isWritable ?? false }

    func resumeReadingIfPending() {
        guard self.pendingRead, let context = self.context, let link = self.link,
            link.canRead(from: self.side)
        else { return }
        self.pendingRead = false
        context.read()
    }

    func write(_ bytes: ByteBuffer) {
        self.context?.write(self.wrapOutboundOut(bytes), promise: nil)
    }

    func flush() {
        self.context?.flush()
    }

    /// Writes and flushes `bytes`; `completion` gets whether they reached the socket.
    func writeAndFlush(_ bytes: ByteBuffer, completion: @escaping (Bool) -> Void) {
        guard let context = self.context else {
            completion(false)
            return
        }
        context.writeAndFlush(self.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { result in
            if case .success = result { completion(true) } else { completion(false) }
        }
    }

    /// Shuts down the channel's write side (a FIN to the peer) once everything written so far has reached the
    /// socket, then calls `completion`. Reading goes on; NIO closes the channel fully if its input had ended.
    func shutdownOutputAfterPendingWrites(then completion: @escaping () -> Void) {
        guard let context = self.context else {
            completion()
            return
        }
        let channel = context.channel
        // Writes complete in order, so an empty write completing means all earlier ones did: NIO itself would
        // drop pending writes when a half-close escalates to a full close.
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            channel.close(mode: .output).assumeIsolated().whenComplete { _ in completion() }
        }
    }

    /// Closes the channel once everything written so far has reached the socket.
    func closeAfterPendingWrites() {
        guard let context = self.context else { return }
        // Writes complete in order, so an empty write completing means all earlier ones did.
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer()), promise: promise)
        let channel = context.channel
        promise.futureResult.whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func close() {
        self.context?.close(promise: nil)
    }
}
