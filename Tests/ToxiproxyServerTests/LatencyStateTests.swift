import NIOCore
import Testing
import ToxiproxyTestSupport

@testable import ToxiproxyServer

/// The latency state machine with injected time: no sockets, no sleeps.
struct LatencyStateTests {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func chunk(_ text: String, at time: NIODeadline) -> StreamElement {
        .chunk(Chunk(bytes: ByteBuffer(string: text), timestamp: time))
    }

    private func texts(_ elements: [StreamElement]) -> [String] {
        elements.map { element in
            switch element {
            case .chunk(let chunk): String(buffer: chunk.bytes)
            case .end: "<end>"
            case .close: "<close>"
            }
        }
    }

    @Test func holdsEachChunkUntilItsAgeReachesTheLatency() {
        var state = LatencyState(latency: 100, jitter: 0, active: true)
        guard case .hold = state.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 0) else {
            Issue.record("a fresh chunk must be held")
            return
        }
        #expect(state.nextDeadline == t0 + .milliseconds(100))
        #expect(state.releaseDue(now: t0 + .milliseconds(99)).isEmpty)
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(100))) == ["a"])
        #expect(state.nextDeadline == nil)
    }

    @Test func measuresFromArrivalSoThroughputIsKept() {
        var state = LatencyState(latency: 100, jitter: 0, active: true)
        _ = state.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 0)
        _ = state.receive(self.chunk("b", at: t0 + .milliseconds(10)), now: t0 + .milliseconds(10), jitterOffset: 0)
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(100))) == ["a"])
        // b waited alongside a, so it is due 10 ms later, not 100 ms after a left.
        #expect(state.nextDeadline == t0 + .milliseconds(110))
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(110))) == ["b"])
    }

    @Test func jitterNeverReordersChunks() {
        var state = LatencyState(latency: 100, jitter: 50, active: true)
        _ = state.receive(self.chunk("slow", at: t0), now: t0, jitterOffset: 49)
        _ = state.receive(self.chunk("fast", at: t0 + .milliseconds(1)), now: t0 + .milliseconds(1), jitterOffset: -50)
        // "fast" alone would be due at 51 ms but may not overtake "slow", due at 149 ms.
        #expect(state.releaseDue(now: t0 + .milliseconds(60)).isEmpty)
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(149))) == ["slow", "fast"])
    }

    @Test func anOldChunkPassesAtOnceAndTheEndQueuesBehindData() {
        var state = LatencyState(latency: 100, jitter: 0, active: true)
        if case .forward = state.receive(self.chunk("late", at: t0), now: t0 + .milliseconds(150), jitterOffset: 0) {
        } else {
            Issue.record("a chunk older than the latency must pass at once")
        }
        _ = state.receive(self.chunk("a", at: t0 + .milliseconds(200)), now: t0 + .milliseconds(200), jitterOffset: 0)
        guard case .hold = state.receive(.end, now: t0 + .milliseconds(201), jitterOffset: 0) else {
            Issue.record("the end must wait behind held data")
            return
        }
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(300))) == ["a", "<end>"])
    }

    @Test func releasedChunksCarryTheirDelaySoStackedStagesAddUp() {
        var first = LatencyState(latency: 100, jitter: 0, active: true)
        var second = LatencyState(latency: 50, jitter: 0, active: true)
        _ = first.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 0)
        let released = first.releaseDue(now: t0 + .milliseconds(100))
        _ = second.receive(released[0], now: t0 + .milliseconds(100), jitterOffset: 0)
        #expect(second.nextDeadline == t0 + .milliseconds(150))
    }

    @Test func reconfiguringRetimesHeldChunksFromTheirArrival() {
        var state = LatencyState(latency: 2000, jitter: 0, active: true)
        _ = state.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 0)
        state.reconfigure(latency: 10, jitter: 0, active: true, now: t0 + .milliseconds(50))
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(50))) == ["a"])
    }

    @Test func inactiveStagePassesThroughButKeepsOrderBehindHeldData() {
        var state = LatencyState(latency: 100, jitter: 0, active: true)
        _ = state.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 0)
        state.reconfigure(latency: 100, jitter: 0, active: false, now: t0 + .milliseconds(1))
        // With the toxic off, held data is due at once; nothing new may overtake it.
        #expect(self.texts(state.releaseDue(now: t0 + .milliseconds(1))) == ["a"])
        if case .forward = state.receive(
            self.chunk("b", at: t0 + .milliseconds(2)),
            now: t0 + .milliseconds(2),
            jitterOffset: 0
        ) {
        } else {
            Issue.record("an inactive stage with nothing held forwards at once")
        }
    }

    @Test func drainGivesBackEverythingInOrder() {
        var state = LatencyState(latency: 100, jitter: 0, active: true)
        _ = state.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 0)
        _ = state.receive(self.chunk("b", at: t0), now: t0, jitterOffset: 0)
        _ = state.receive(.end, now: t0, jitterOffset: 0)
        #expect(self.texts(state.drain()) == ["a", "b", "<end>"])
        #expect(state.heldCount == 0)
    }

    @Test func hugeLatencySaturatesInsteadOfTrapping() {
        var state = LatencyState(latency: .max, jitter: 10, active: true)
        _ = state.receive(self.chunk("a", at: t0), now: t0, jitterOffset: 9)
        #expect(state.releaseDue(now: t0 + .hours(24 * 365)).isEmpty)
    }
}
