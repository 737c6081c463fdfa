import NIOCore
import Testing
import ToxiproxyTestSupport

@testable import ToxiproxyServer

/// Bandwidth, slicer and the release queue, with injected time: no sockets, no sleeps.
struct ToxicStateTests {
    private let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func chunk(_ size: Int) -> StreamElement {
        .chunk(Chunk(bytes: ByteBuffer(repeating: 7, count: size), timestamp: self.t0))
    }

    private func sizes(_ elements: [StreamElement]) -> [Int] {
        elements.map { element in
            if case .chunk(let chunk) = element { return chunk.bytes.readableBytes }
            return -1
        }
    }

    @Test
    func releaseQueueNeverReleasesOutOfOrder() {
        var queue = ReleaseQueue()
        queue.append(self.chunk(1), releaseAt: self.t0 + .milliseconds(50))
        queue.append(self.chunk(2), releaseAt: self.t0 + .milliseconds(10))
        #expect(queue.releaseDue(now: self.t0 + .milliseconds(20)).isEmpty)
        #expect(self.sizes(queue.releaseDue(now: self.t0 + .milliseconds(50))) == [1, 2])
    }

    /// 50,000 bytes at 100 KB/s take 0.5 s, sent as 10,000-byte (100 ms) pieces.
    @Test
    func bandwidthReleasesPiecesAtTheirTransmissionTime() {
        var state = BandwidthState(rate: 100, active: true)
        #expect(state.receive(self.chunk(50_000), now: self.t0).isEmpty)
        #expect(state.heldCount == 5)
        #expect(state.nextDeadline == self.t0 + .milliseconds(100))
        #expect(self.sizes(state.releaseDue(now: self.t0 + .milliseconds(250))) == [10_000, 10_000])
        #expect(self.sizes(state.releaseDue(now: self.t0 + .milliseconds(500))) == [10_000, 10_000, 10_000])
        // Idle time gives no credit: the next chunk starts from when it arrives.
        _ = state.receive(self.chunk(1_000), now: self.t0 + .seconds(2))
        #expect(state.nextDeadline == self.t0 + .seconds(2) + .milliseconds(10))
    }

    @Test
    func bandwidthZeroHoldsEverythingUntilTheRateChanges() {
        var state = BandwidthState(rate: 0, active: true)
        #expect(state.receive(self.chunk(10), now: self.t0).isEmpty)
        #expect(state.receive(.end, now: self.t0).isEmpty)
        #expect(state.nextDeadline == nil)
        let released = state.reconfigure(rate: 1000, active: false, now: self.t0 + .seconds(1))
        #expect(self.sizes(released) == [10, -1], "the data, then the end, in order")
    }

    @Test
    func inactiveBandwidthPassesThrough() {
        var state = BandwidthState(rate: 1, active: false)
        #expect(self.sizes(state.receive(self.chunk(100_000), now: self.t0)) == [100_000])
    }

    @Test(arguments: [(100, 10, 4), (65536, 1000, 0), (65536, 1, 5000), (3, 0, 1), (1000, 100, 100)])
    func slicerPiecesCoverTheChunkExactly(length: Int, average: Int64, variation: Int64) {
        var generator = SplitMix64(seed: UInt64(length))
        let pieces = SlicerState.pieces(
            length: length,
            averageSize: average,
            sizeVariation: variation,
            using: &generator
        )
        #expect(pieces.reduce(0, +) == length)
        #expect(pieces.allSatisfy { $0 >= 1 })
        // Every piece is within the variation of the average, or was too small to cut further.
        #expect(pieces.allSatisfy { Int64($0) - average <= variation || $0 <= 1 })
    }

    @Test
    func slicerWithoutVariationHalvesDeterministically() {
        var generator = SplitMix64(seed: 1)
        #expect(
            SlicerState.pieces(length: 100, averageSize: 25, sizeVariation: 0, using: &generator) == [25, 25, 25, 25]
        )
    }
}
