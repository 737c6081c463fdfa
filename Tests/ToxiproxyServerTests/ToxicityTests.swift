import Testing
import ToxiproxyTestSupport

@testable import ToxiproxyServer

struct ToxicityTests {
    @Test func boundsAreDeterministic() {
        var generator = SplitMix64(seed: 1)
        for _ in 0..<1000 {
            #expect(Toxicity.draw(1, using: &generator))
            #expect(Toxicity.draw(2, using: &generator))
            #expect(!Toxicity.draw(0, using: &generator))
            #expect(!Toxicity.draw(-1, using: &generator))
        }
    }

    @Test func halfRunsAboutHalfTheTime() {
        var generator = SplitMix64(seed: 42)
        let active = (0..<10_000).filter { _ in Toxicity.draw(0.5, using: &generator) }.count
        // 10,000 fair draws: 4,800...5,200 holds with probability far above 99.99 %.
        #expect((4800...5200).contains(active), "\(active) of 10000")
    }
}
