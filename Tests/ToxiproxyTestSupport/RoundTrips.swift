import NIOConcurrencyHelpers
import NIOCore

public enum RoundTrips {
    /// Sends `count` 8-byte sequence-numbered messages on one connection, `interval` apart, and returns the
    /// round trip of each one in milliseconds (send to complete echo), in order. Messages overlap in flight
    /// when the interval is shorter than the delay, which is how latency must behave (per chunk, from arrival).
    public static func measure(port: Int, count: Int, interval: Duration) async throws -> [Double] {
        let sentAt = NIOLockedValueBox([ContinuousClock.Instant?](repeating: nil, count: count))
        let connection = try await TCPTestClient.connect(port: port)
        return try await connection.executeThenClose { inbound, outbound in
            async let sending: Void = {
                for sequence in 0..<count {
                    var buffer = ByteBuffer()
                    buffer.writeInteger(UInt64(sequence))
                    sentAt.withLockedValue { $0[sequence] = .now }
                    try await outbound.write(buffer)
                    try await Task.sleep(for: interval)
                }
            }()
            var roundTrips: [Double] = []
            var carry = ByteBuffer()
            for try await var buffer in inbound {
                let arrival = ContinuousClock.now
                carry.writeBuffer(&buffer)
                while let sequence = carry.readInteger(as: UInt64.self) {
                    guard Int(sequence) == roundTrips.count, let sent = sentAt.withLockedValue({ $0[Int(sequence)] })
                    else { throw TestFailure("message \(sequence) out of order after \(roundTrips.count)") }
                    let elapsed = arrival - sent
                    roundTrips.append(
                        Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                    )
                }
                if roundTrips.count == count { break }
            }
            try await sending
            guard roundTrips.count == count else { throw TestFailure("got \(roundTrips.count) of \(count) echoes") }
            return roundTrips
        }
    }
}
