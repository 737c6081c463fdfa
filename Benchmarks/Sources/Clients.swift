import NIOCore
import NIOPosix

/// Client-side connection helpers. Every measurement happens in channel handlers on the client's own
/// event loop (no task hops per message), so the load generator adds as little as possible to what it
/// measures and the direct figure stays close to the physical limit.
enum Clients {
    /// Connects to 127.0.0.1:`port` with `handler` installed before the connection is active.
    static func connect(
        group: any EventLoopGroup,
        port: Int,
        timeout: TimeAmount = .seconds(10),
        configure: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try configure(channel) }
            }
            .connect(host: "127.0.0.1", port: port)
    }

    /// Opens `count` connections, at most `batch` connecting at once, each ready once `ready` (given the
    /// channel's promise) completes. On any failure every connection opened so far is closed.
    static func openMany(
        group: any EventLoopGroup,
        port: Int,
        count: Int,
        batch: Int,
        timeout: TimeAmount,
        handler: @escaping @Sendable (EventLoopPromise<Void>) -> any ChannelHandler
    ) async throws -> [any Channel] {
        var channels: [any Channel] = []
        channels.reserveCapacity(count)
        do {
            var opened = 0
            while opened < count {
                let size = min(batch, count - opened)
                var pending: [(EventLoopFuture<any Channel>, EventLoopPromise<Void>)] = []
                for _ in 0..<size {
                    let eventLoop = group.next()
                    let ready = eventLoop.makePromise(of: Void.self)
                    let connected = connect(group: eventLoop, port: port, timeout: timeout) { channel in
                        try channel.pipeline.syncOperations.addHandler(handler(ready))
                    }
                    connected.whenFailure { ready.fail($0) }
                    pending.append((connected, ready))
                }
                // One deadline for the whole batch: waiting for each connection in turn with its own
                // timeout would add them up (200 stuck connections × 30 s) and hang the run.
                let deadline = Deadline(timeout)
                var firstError: (any Error)?
                for (index, (connected, ready)) in pending.enumerated() {
                    let which = "connection \(opened + index + 1) of \(count) to port \(port)"
                    var appended = false
                    do {
                        channels.append(
                            try await connected.get(within: deadline.remaining, "\(which): connect (batch of \(size))")
                        )
                        appended = true
                        try await ready.futureResult.get(
                            within: deadline.remaining,
                            "\(which): first bytes (batch of \(size))"
                        )
                    } catch {
                        // A connection that completes after its wait gave up is not in `channels`: close it then.
                        if !appended {
                            connected.whenSuccess { channel in channel.close(promise: nil) }
                        }
                        firstError = firstError ?? error
                    }
                }
                if let firstError { throw firstError }
                opened += size
            }
        } catch {
            await closeAll(channels)
            throw error
        }
        return channels
    }

    static func closeAll(_ channels: [any Channel]) async {
        let futures = channels.map { $0.close() }
        let deadline = Deadline(.seconds(10))
        await outsideBudget {
            for future in futures {
                _ = try? await future.get(within: deadline.remaining, "close")
            }
        }
    }
}

/// One byte out, one byte back, repeated on one connection; records each round trip after the warm-up.
final class PingPongHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let message = ByteBuffer(string: "x")
    private let warmup: Int
    private let measured: Int
    private let done: EventLoopPromise<[UInt64]>
    private var samples: [UInt64] = []
    private var sentAt: UInt64 = 0
    private var completed = 0

    init(warmup: Int, measured: Int, done: EventLoopPromise<[UInt64]>) {
        self.warmup = warmup
        self.measured = measured
        self.done = done
        self.samples.reserveCapacity(measured)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.send(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = nowNanos()
        let count = self.unwrapInboundIn(data).readableBytes
        for _ in 0..<count {
            self.completed += 1
            if self.completed > self.warmup {
                self.samples.append(now - self.sentAt)
            }
        }
        if self.completed >= self.warmup + self.measured {
            self.done.succeed(self.samples)
        } else {
            self.send(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.done.fail(BenchmarkError("connection closed after \(self.completed) round trips"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.done.fail(error)
        context.close(promise: nil)
    }

    private func send(context: ChannelHandlerContext) {
        self.sentAt = nowNanos()
        context.writeAndFlush(self.wrapOutboundOut(Self.message), promise: nil)
    }
}

/// Sends one byte on connect and completes `echoed` when it comes back: proof that the connection is
/// proxied end to end (the proxy has dialled the upstream), not merely accepted.
final class EchoOnceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let echoed: EventLoopPromise<Void>

    init(echoed: EventLoopPromise<Void>) {
        self.echoed = echoed
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: "x")), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.echoed.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.echoed.fail(BenchmarkError("connection closed before the echo"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.echoed.fail(error)
        context.close(promise: nil)
    }
}

/// Reads and discards a stream. `firstBytes` completes on the first read; `reachedTarget` (if any) gets
/// the times of the first read and of the read that brought the total to `target`.
final class StreamReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    struct Timing: Sendable {
        var firstRead: UInt64
        var firstReadBytes: Int
        var targetReached: UInt64
        var totalBytes: Int
    }

    private let firstBytes: EventLoopPromise<Void>
    private let target: Int
    private let reachedTarget: EventLoopPromise<Timing>?
    private var received = 0
    private var firstRead: UInt64 = 0
    private var firstReadBytes = 0

    init(firstBytes: EventLoopPromise<Void>, target: Int = .max, reachedTarget: EventLoopPromise<Timing>? = nil) {
        self.firstBytes = firstBytes
        self.target = target
        self.reachedTarget = reachedTarget
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = self.unwrapInboundIn(data).readableBytes
        let before = self.received
        self.received += count
        if before == 0 {
            self.firstRead = nowNanos()
            self.firstReadBytes = count
            self.firstBytes.succeed()
        }
        if before < self.target && self.received >= self.target {
            self.reachedTarget?.succeed(
                Timing(
                    firstRead: self.firstRead,
                    firstReadBytes: self.firstReadBytes,
                    targetReached: nowNanos(),
                    totalBytes: self.received
                )
            )
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error = BenchmarkError("stream closed after \(self.received) bytes")
        self.firstBytes.fail(error)
        self.reachedTarget?.fail(error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Sends `total` bytes as fast as the connection takes them, once told to start, with backpressure.
final class BulkWriterHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent through the pipeline so every stream starts at the same moment, after all have connected.
    struct Start: Sendable {}

    private var remaining: Int
    private var started = false
    private var pumpScheduled = false

    init(total: Int) {
        self.remaining = total
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is Start {
            self.started = true
            self.pump(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.schedulePump(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func schedulePump(context: ChannelHandlerContext) {
        // Deferred: writability changes fire from inside a flush, and pumping there would recurse.
        guard self.started, !self.pumpScheduled, self.remaining > 0 else { return }
        self.pumpScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.pumpScheduled = false
            self.pump(context: context)
        }
    }

    private func pump(context: ChannelHandlerContext) {
        var writes = 0
        while self.remaining > 0, context.channel.isActive, context.channel.isWritable, writes < 16 {
            var chunk = BulkIO.chunk
            if chunk.readableBytes > self.remaining {
                chunk = chunk.getSlice(at: chunk.readerIndex, length: self.remaining)!
            }
            self.remaining -= chunk.readableBytes
            context.write(self.wrapOutboundOut(chunk), promise: nil)
            writes += 1
        }
        guard writes > 0 else { return }
        context.flush()
        if context.channel.isActive && context.channel.isWritable {
            self.schedulePump(context: context)
        }
    }
}

/// Runs connect → one-byte round trip → close, `count` times in a row, all in event-loop callbacks.
final class SetupWorker: Sendable {
    private let eventLoop: any EventLoop
    private let port: Int
    private let remaining: NIOLoopBoundBox<Int>
    private let done: EventLoopPromise<Void>

    init(eventLoop: any EventLoop, port: Int, count: Int) {
        self.eventLoop = eventLoop
        self.port = port
        self.remaining = NIOLoopBoundBox.makeBoxSendingValue(count, eventLoop: eventLoop)
        self.done = eventLoop.makePromise()
    }

    func run() -> EventLoopFuture<Void> {
        self.eventLoop.execute { self.next() }
        return self.done.futureResult
    }

    private func next() {
        guard self.remaining.value > 0 else {
            self.done.succeed()
            return
        }
        self.remaining.value -= 1
        let echoed = self.eventLoop.makePromise(of: Void.self)
        Clients.connect(group: self.eventLoop, port: self.port) { channel in
            try channel.pipeline.syncOperations.addHandler(EchoOnceHandler(echoed: echoed))
        }
        .flatMap { channel in
            echoed.futureResult.flatMap { channel.close() }
        }
        .whenComplete { result in
            switch result {
            case .success:
                self.next()
            case .failure(let error):
                echoed.fail(error)
                self.done.fail(error)
            }
        }
    }
}
