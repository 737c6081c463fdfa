import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The in-process upstream servers every target is measured against: an echo server (request/response,
/// connection set-up, idle connections, latency), a sink (bulk throughput) and an endless source
/// (streaming for the admin and bandwidth workloads).
struct Upstreams: Sendable {
    let echoPort: Int
    let sinkPort: Int
    let sourcePort: Int
    let sink: SinkTracker
    private let channels: [any Channel]

    static func start(group: any EventLoopGroup) async throws -> Upstreams {
        let sink = SinkTracker()
        let echo = try await listen(group: group) { channel in
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
        let sinkChannel = try await listen(group: group) { channel in
            // Large reads keep the sink's own cost per byte low, so it does not cap the direct figure.
            try channel.syncOptions?.setOption(.recvAllocator, value: BulkIO.receiveAllocator)
            try channel.pipeline.syncOperations.addHandler(SinkHandler(tracker: sink))
        }
        let source = try await listen(group: group) { channel in
            try channel.syncOptions?.setOption(.writeBufferWaterMark, value: BulkIO.waterMark)
            try channel.pipeline.syncOperations.addHandler(SourceHandler())
        }
        let channels = [echo, sinkChannel, source]
        return Upstreams(
            echoPort: echo.localAddress?.port ?? 0,
            sinkPort: sinkChannel.localAddress?.port ?? 0,
            sourcePort: source.localAddress?.port ?? 0,
            sink: sink,
            channels: channels
        )
    }

    func stop() async {
        for channel in self.channels {
            try? await channel.close()
        }
    }

    private static func listen(
        group: any EventLoopGroup,
        _ configure: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            // Thousands of connections arrive in bursts in the idle-memory and admin workloads.
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }
}

/// Buffer settings shared by the bulk writers and readers.
enum BulkIO {
    /// One buffer written over and over: ByteBuffer is copy-on-write, so writing it costs no copy.
    static let chunk = ByteBuffer(repeating: 0x5A, count: 256 * 1024)
    static let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 512 * 1024, high: 1024 * 1024)
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(
        minimum: 1024,
        initial: 64 * 1024,
        maximum: 256 * 1024
    )
}

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Tells the bulk workload when every sink connection has received its share: the receiving end is the
/// only place where "all bytes arrived" is known, whether or not a proxy sits in between.
final class SinkTracker: Sendable {
    private struct Run {
        var bytesPerStream: Int
        var remainingStreams: Int
        var done: EventLoopPromise<UInt64>
    }

    private let run = NIOLockedValueBox<Run?>(nil)

    /// Arms the tracker before the clients connect; `done` gets the time the last stream completed.
    func arm(bytesPerStream: Int, streams: Int, done: EventLoopPromise<UInt64>) {
        self.run.withLockedValue { $0 = Run(bytesPerStream: bytesPerStream, remainingStreams: streams, done: done) }
    }

    func disarm() {
        self.run.withLockedValue { $0 = nil }
    }

    var bytesPerStream: Int {
        self.run.withLockedValue { $0?.bytesPerStream } ?? .max
    }

    func streamCompleted(at time: UInt64) {
        let finished: EventLoopPromise<UInt64>? = self.run.withLockedValue { run in
            guard var current = run else { return nil }
            current.remainingStreams -= 1
            if current.remainingStreams == 0 {
                run = nil
                return current.done
            }
            run = current
            return nil
        }
        finished?.succeed(time)
    }
}

final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let tracker: SinkTracker
    private var expected: Int?
    private var received = 0

    init(tracker: SinkTracker) {
        self.tracker = tracker
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only the count matters; the buffer is dropped right away.
        let count = self.unwrapInboundIn(data).readableBytes
        let expected = self.expected ?? self.tracker.bytesPerStream
        self.expected = expected
        let before = self.received
        self.received += count
        if before < expected && self.received >= expected {
            self.tracker.streamCompleted(at: nowNanos())
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Writes one shared buffer for as long as the peer reads, with backpressure (only while writable).
final class SourceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var pumpScheduled = false

    func channelActive(context: ChannelHandlerContext) {
        self.pump(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Deferred: this fires from inside a flush, and pumping there would recurse.
        if context.channel.isWritable {
            self.schedulePump(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func schedulePump(context: ChannelHandlerContext) {
        guard !self.pumpScheduled else { return }
        self.pumpScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.pumpScheduled = false
            self.pump(context: context)
        }
    }

    /// Writes a bounded batch so one connection cannot monopolise the loop; a batch that leaves the
    /// channel writable (a fast reader) reschedules itself, since no writability change will come.
    private func pump(context: ChannelHandlerContext) {
        var writes = 0
        while context.channel.isActive && context.channel.isWritable && writes < 16 {
            context.write(self.wrapOutboundOut(BulkIO.chunk), promise: nil)
            writes += 1
        }
        guard writes > 0 else { return }
        context.flush()
        if context.channel.isActive && context.channel.isWritable {
            self.schedulePump(context: context)
        }
    }
}
