import NIOCore
import NIOPosix

/// Real TCP client connections on loopback, driven with async/await.
public enum TCPTestClient {
    public typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// - Parameter halfClosable: finishing the outbound writer shuts down only the write side
    ///   (`shutdown(SHUT_WR)`), and the inbound stream goes on until the peer's end of stream.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        halfClosable: Bool = false
    ) async throws
        -> Connection
    {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: halfClosable)
                    )
                }
            }
    }

    /// Sends `send`, then reads until the server closes; returns everything read.
    public static func exchange(host: String, port: Int, send: [UInt8]) async throws -> [UInt8] {
        let connection = try await self.connect(host: host, port: port)
        return try await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: send))
            var received: [UInt8] = []
            for try await buffer in inbound {
                received.append(contentsOf: buffer.readableBytesView)
            }
            return received
        }
    }
}
