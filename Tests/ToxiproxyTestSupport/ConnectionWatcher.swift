import NIOConcurrencyHelpers
import NIOCore

/// Reads a connection in the background and records what happened and when, so a test can wait for a
/// condition with a deadline, or watch a window of time to prove that nothing happened.
public final class ConnectionWatcher: Sendable {
    private struct State {
        public var received: [UInt8] = []
        public var closedAt: ContinuousClock.Instant?
    }

    private let state = NIOLockedValueBox(State())
    private let reader: Task<Void, Never>

    public init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
        let state = self.state
        self.reader = Task {
            do {
                for try await buffer in inbound {
                    state.withLockedValue { $0.received.append(contentsOf: buffer.readableBytesView) }
                }
            } catch {}
            state.withLockedValue { $0.closedAt = .now }
        }
    }

    public var received: [UInt8] { self.state.withLockedValue { $0.received } }
    public var closedAt: ContinuousClock.Instant? { self.state.withLockedValue { $0.closedAt } }

    /// Waits until the peer closes; returns when it did, or nil if it did not within `timeout`.
    public func waitForClose(timeout: Duration = .seconds(5)) async -> ContinuousClock.Instant? {
        _ = await eventually(timeout: timeout) { self.closedAt != nil }
        return self.closedAt
    }

    /// Waits until at least `count` bytes have arrived; returns whether they did within `timeout`.
    public func waitForBytes(_ count: Int, timeout: Duration = .seconds(5)) async -> Bool {
        await eventually(timeout: timeout) { self.received.count >= count }
    }

    public func stop() async {
        self.reader.cancel()
        await self.reader.value
    }
}
