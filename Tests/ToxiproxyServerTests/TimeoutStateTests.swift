import NIOCore
import Testing
import ToxiproxyTestSupport

@testable import ToxiproxyServer

struct TimeoutStateTests {
    private let t0 = NIODeadline.uptimeNanoseconds(5_000_000_000)
    private let data = StreamElement.chunk(Chunk(bytes: ByteBuffer(string: "x"), timestamp: .uptimeNanoseconds(0)))

    @Test func zeroNeverExpiresAndDropsData() {
        var state = TimeoutState(timeout: 0, active: true, now: t0)
        #expect(state.receive(self.data, now: t0) == .drop)
        #expect(state.deadline == nil)
        #expect(!state.isExpired(now: t0 + .hours(1)))
    }

    @Test func positiveIsAnIdleTimerResetByEachChunk() {
        var state = TimeoutState(timeout: 500, active: true, now: t0)
        #expect(state.deadline == t0 + .milliseconds(500))
        #expect(state.receive(self.data, now: t0 + .milliseconds(400)) == .drop)
        #expect(!state.isExpired(now: t0 + .milliseconds(800)))
        #expect(state.isExpired(now: t0 + .milliseconds(900)))
    }

    @Test func restartRearmsTheTimer() {
        var state = TimeoutState(timeout: 500, active: true, now: t0)
        state.reconfigure(timeout: 500, active: true, now: t0 + .milliseconds(300))
        #expect(state.deadline == t0 + .milliseconds(800))
    }

    @Test func theSourceEndStillPassesAndDisarms() {
        var state = TimeoutState(timeout: 500, active: true, now: t0)
        #expect(state.receive(.end, now: t0) == .forward)
        #expect(state.deadline == nil)
    }

    @Test func inactiveForwardsEverythingWithoutATimer() {
        var state = TimeoutState(timeout: 500, active: false, now: t0)
        #expect(state.receive(self.data, now: t0) == .forward)
        #expect(state.deadline == nil)
    }
}
