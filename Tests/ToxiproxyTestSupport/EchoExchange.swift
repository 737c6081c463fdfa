import NIOConcurrencyHelpers
import NIOCore

/// One client's exchange with an echo upstream through the proxy: seeded random bytes out, the echo read at
/// the same time, both sides hashed.
public struct EchoExchange: Sendable {
    public var sentCount = 0
    public var receivedCount = 0
    public var sentDigest = ""
    public var receivedDigest = ""
    /// Milliseconds from the client's `shutdown(SHUT_WR)` to the end of stream it then read (half-close only).
    public var closeAfterHalfClose: Double?

    /// Every byte sent came back, unchanged and in order.
    public var isIntact: Bool { self.sentCount == self.receivedCount && self.sentDigest == self.receivedDigest }

    public var summary: String {
        "sent \(self.sentCount) bytes, received \(self.receivedCount)"
            + (self.sentDigest == self.receivedDigest ? "" : ", SHA-256 differs")
    }

    /// Streams `byteCount` bytes seeded by `seed` to `port` in writes of `chunkSize` while reading the echo.
    ///
    /// With `halfClose`, the client shuts down its write side after the last byte and reads until the
    /// server's end of stream, as `nc -N`, BusyBox `wget` or Node's `socket.end(data)` do; without it, it
    /// reads `byteCount` bytes and closes. `onFirstWrite` runs once the first write is in the kernel.
    public static func run(
        port: Int,
        byteCount: Int,
        seed: UInt64,
        halfClose: Bool = false,
        chunkSize: Int = 16 * 1024,
        onFirstWrite: @Sendable () -> Void = {}
    ) async throws -> EchoExchange {
        let connection = try await TCPTestClient.connect(port: port, halfClosable: halfClose)
        return try await connection.executeThenClose { inbound, outbound in
            async let sending: (digest: String, halfClosedAt: ContinuousClock.Instant?) = {
                var generator = SplitMix64(seed: seed)
                var hash = SHA256()
                var remaining = byteCount
                var first = true
                while remaining > 0 {
                    let size = min(remaining, chunkSize)
                    let bytes = generator.bytes(size)
                    hash.update(bytes)
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    if first {
                        first = false
                        onFirstWrite()
                    }
                    remaining -= size
                }
                guard halfClose else { return (hash.finalize(), nil) }
                outbound.finish()
                return (hash.finalize(), ContinuousClock.now)
            }()
            var result = EchoExchange()
            var hash = SHA256()
            for try await buffer in inbound {
                buffer.withUnsafeReadableBytes { hash.update($0) }
                result.receivedCount += buffer.readableBytes
                if !halfClose && result.receivedCount >= byteCount { break }
            }
            let ended = ContinuousClock.now
            let sent = try await sending
            result.sentCount = byteCount
            result.sentDigest = sent.digest
            result.receivedDigest = hash.finalize()
            if let halfClosedAt = sent.halfClosedAt {
                result.closeAfterHalfClose = (ended - halfClosedAt).milliseconds
            }
            return result
        }
    }
}

/// A count that test tasks bump and a test waits on.
public final class SharedCounter: Sendable {
    private let value = NIOLockedValueBox(0)

    public init() {}

    public func increment() { self.value.withLockedValue { $0 += 1 } }
    public var count: Int { self.value.withLockedValue { $0 } }
}
