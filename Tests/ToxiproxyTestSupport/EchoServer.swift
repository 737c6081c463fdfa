import NIOCore
import NIOPosix

/// A real upstream on 127.0.0.1 that echoes every byte back, for the duration of `body`.
///
/// A client that half-closes gets the rest of its echo, then the server's end of stream.
public func withEchoServer<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
    try await withEchoServer(backlog: 512, accepting: .freely) { port, _ in try await body(port) }
}

/// How an echo server takes connections out of its accept queue.
public enum AcceptPolicy: Sendable {
    /// As fast as they come.
    case freely
    /// None until `AcceptGate.open()`, then freely: with a small backlog, dials beyond it complete only
    /// after the kernel's SYN retransmission (1 s, then 3 s) once the gate is open.
    case held
    /// One connection per interval, for ever: the accept queue of a busy single-threaded server.
    case oneEvery(Duration)
}

/// Opens a `.held` echo server's accept loop.
public struct AcceptGate: Sendable {
    fileprivate let channel: any Channel

    public func open() async throws {
        try await self.channel.setOption(.autoRead, value: true).get()
    }
}

/// An echo server with listen backlog `backlog` whose accept loop follows `policy`, for the duration of
/// `body`, which gets its port and the gate of a `.held` policy.
public func withEchoServer<T: Sendable>(
    backlog: Int32,
    accepting policy: AcceptPolicy,
    _ body: @Sendable (Int, AcceptGate) async throws -> T
) async throws -> T {
    let acceptsFreely: Bool
    if case .freely = policy { acceptsFreely = true } else { acceptsFreely = false }
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .serverChannelOption(.backlog, value: backlog)
        .serverChannelOption(.autoRead, value: acceptsFreely)
        .serverChannelOption(.maxMessagesPerRead, value: UInt(acceptsFreely ? 4 : 1))
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(EchoHandler())
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    var accepter: RepeatedTask?
    if case .oneEvery(let interval) = policy {
        accepter = channel.eventLoop.scheduleRepeatedTask(
            initialDelay: TimeAmount.zero,
            delay: TimeAmount(interval)
        ) { _ in channel.read() }
    }
    do {
        let result = try await body(channel.localAddress!.port!, AcceptGate(channel: channel))
        accepter?.cancel()
        try await channel.close()
        return result
    } catch {
        accepter?.cancel()
        try? await channel.close()
        throw error
    }
}

/// Echoes with backpressure: stops reading while its own socket is not writable.
private final class EchoHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var pendingRead = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && self.pendingRead {
            self.pendingRead = false
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // The client half-closed: finish echoing what it sent, then end our side too.
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
