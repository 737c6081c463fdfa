import Scenarios
import Testing

func flapScenario(up: Duration, down: Duration, bound: Duration, lease: Lease = .none) -> Scenario {
    Scenario(
        name: "flap",
        proxies: ["p"],
        bound: bound,
        lease: lease,
        timeline: [
            .repeatBlock(
                count: nil,
                items: [
                    .phase(PhaseSpec(name: "up", duration: up)),
                    .phase(PhaseSpec(name: "down", duration: down, impairment: Impairment(outage: true))),
                ]
            )
        ]
    )
}

extension ScenarioEngine.Action {
    var applied: (phase: PlannedPhase, lateness: Duration, skipped: Int)? {
        guard case .apply(let phase, let lateness, let skipped) = self else { return nil }
        return (phase, lateness, skipped)
    }
}

@Suite struct ScenarioEngineTests {
    /// An arbitrary origin on the caller's clock, so nothing depends on it being zero.
    let t0 = Duration.seconds(12_345)

    @Test func aTenMinuteFlapRunsOnTimeAndEndsAtTheBound() throws {
        var engine = try ScenarioEngine(
            plan: ScenarioPlan(flapScenario(up: .seconds(20), down: .seconds(20), bound: .seconds(600)))
        )
        #expect(engine.nextWake == nil)
        var actions = engine.start(now: self.t0)
        #expect(actions.count == 1)
        #expect(actions.first?.applied?.phase.name == "up #1")
        #expect(actions.first?.applied?.lateness == .zero)
        var applied = 1
        var wakes = 0
        while let wake = engine.nextWake {
            wakes += 1
            try #require(wakes < 100)
            // Nothing is due a microsecond early.
            #expect(engine.advance(now: wake - .microseconds(1)).isEmpty)
            actions = engine.advance(now: wake)
            #expect(actions.count == 1)
            if let (phase, lateness, skipped) = actions.first?.applied {
                applied += 1
                #expect(phase.index == applied - 1)
                #expect(wake - self.t0 == .seconds(20) * phase.index)
                #expect(lateness == .zero)
                #expect(skipped == 0)
                #expect(phase.outage == (phase.index % 2 == 1))
            } else {
                #expect(actions == [.restore(.boundReached)])
                #expect(wake - self.t0 == .seconds(600))
            }
        }
        #expect(applied == 30)
        #expect(engine.state == .ended(.boundReached))
        #expect(engine.endedAt == .seconds(600))
        #expect(engine.history.count == 30)
        #expect(engine.history.last?.name == "down #15")
        #expect(engine.history.last?.ended == .seconds(600))
        for (earlier, later) in zip(engine.history, engine.history.dropFirst()) {
            #expect(earlier.ended == later.started)
        }
        #expect(engine.advance(now: self.t0 + .seconds(601)).isEmpty)
    }

    @Test func lateWakeUpsNeverShiftTheSchedule() throws {
        var engine = try ScenarioEngine(
            plan: ScenarioPlan(flapScenario(up: .seconds(20), down: .seconds(20), bound: .seconds(600)))
        )
        _ = engine.start(now: self.t0)
        var generator = SplitMix(seed: 11)
        while let wake = engine.nextWake {
            let late = Duration.microseconds(Int64.random(in: 0...250_000, using: &generator))
            let actions = engine.advance(now: wake + late)
            if let (phase, lateness, _) = actions.first?.applied {
                // Due times stay on the 20 s grid whatever the lateness of the wake-ups before.
                #expect(phase.start == .seconds(20) * phase.index)
                #expect(lateness == late)
            }
        }
        #expect(engine.history.count == 30)
        #expect(engine.history.map(\.due) == (0..<30).map { Duration.seconds(20) * $0 })
        #expect(engine.state == .ended(.boundReached))
    }

    @Test func phasesThatEndedWhileLateAreSkippedAndCounted() throws {
        var engine = try ScenarioEngine(
            plan: ScenarioPlan(flapScenario(up: .seconds(1), down: .seconds(1), bound: .seconds(60)))
        )
        _ = engine.start(now: self.t0)
        #expect(engine.nextWake == self.t0 + .seconds(1))
        let actions = engine.advance(now: self.t0 + .milliseconds(3500))
        let (phase, lateness, skipped) = try #require(actions.first?.applied)
        #expect(phase.index == 3)
        #expect(phase.name == "down #2")
        #expect(lateness == .milliseconds(500))
        #expect(skipped == 2)
        #expect(engine.history.map(\.index) == [0, 3])
        #expect(engine.history[0].ended == .milliseconds(3500))
        #expect(engine.history[1].started == .milliseconds(3500))
        #expect(engine.history[1].due == .seconds(3))
        #expect(engine.nextWake == self.t0 + .seconds(4))
    }

    @Test func aLeaseRenewedThenAbandonedExpires() throws {
        let scenario = flapScenario(
            up: .seconds(20),
            down: .seconds(20),
            bound: .seconds(600),
            lease: .heartbeat(grace: .seconds(30))
        )
        var engine = try ScenarioEngine(plan: ScenarioPlan(scenario))
        _ = engine.start(now: self.t0)
        #expect(engine.leaseExpiry == self.t0 + .seconds(30))
        #expect(engine.heartbeat(now: self.t0 + .seconds(10)) == true)
        #expect(engine.leaseExpiry == self.t0 + .seconds(40))
        #expect(engine.advance(now: self.t0 + .seconds(20)).first?.applied?.phase.name == "down #1")
        #expect(engine.heartbeat(now: self.t0 + .seconds(35)) == true)
        #expect(engine.leaseExpiry == self.t0 + .seconds(65))
        // The operator is gone: phases go on until the lease runs out.
        #expect(engine.nextWake == self.t0 + .seconds(40))
        #expect(engine.advance(now: self.t0 + .seconds(40)).first?.applied?.phase.name == "up #2")
        #expect(engine.advance(now: self.t0 + .seconds(60)).first?.applied?.phase.name == "down #2")
        #expect(engine.nextWake == self.t0 + .seconds(65))
        #expect(engine.advance(now: self.t0 + .milliseconds(64_999)).isEmpty)
        // A heartbeat that comes after the expiry is too late, even before the engine noticed.
        #expect(engine.heartbeat(now: self.t0 + .seconds(65)) == false)
        #expect(engine.advance(now: self.t0 + .seconds(65)) == [.restore(.leaseExpired)])
        #expect(engine.state == .ended(.leaseExpired))
        #expect(engine.history.last?.ended == .seconds(65))
        #expect(engine.nextWake == nil)
        #expect(engine.heartbeat(now: self.t0 + .seconds(66)) == false)
    }

    @Test func aLeaseThatExpiredWhileLateStillEndsTheScenarioBeforeAnyPhase() throws {
        let scenario = flapScenario(
            up: .seconds(20),
            down: .seconds(20),
            bound: .seconds(600),
            lease: .heartbeat(grace: .seconds(30))
        )
        var engine = try ScenarioEngine(plan: ScenarioPlan(scenario))
        _ = engine.start(now: self.t0)
        #expect(engine.advance(now: self.t0 + .seconds(45)) == [.restore(.leaseExpired)])
        #expect(engine.history.count == 1)
    }

    @Test func whenTheEndAndTheLeaseFallDueTogetherTheTimelineWins() throws {
        let scenario = Scenario(
            proxies: ["p"],
            lease: .heartbeat(grace: .seconds(10)),
            timeline: [.phase(PhaseSpec(duration: .seconds(10), impairment: Impairment(outage: true)))]
        )
        var tie = try ScenarioEngine(plan: ScenarioPlan(scenario))
        _ = tie.start(now: self.t0)
        #expect(tie.nextWake == self.t0 + .seconds(10))
        #expect(tie.advance(now: self.t0 + .seconds(10)) == [.restore(.completed)])

        // When both are overdue, the earlier one is the reason.
        var leaseFirst = try ScenarioEngine(
            plan: ScenarioPlan(
                Scenario(proxies: ["p"], lease: .heartbeat(grace: .seconds(5)), timeline: scenario.timeline)
            )
        )
        _ = leaseFirst.start(now: self.t0)
        #expect(leaseFirst.advance(now: self.t0 + .seconds(30)) == [.restore(.leaseExpired)])

        var endFirst = try ScenarioEngine(
            plan: ScenarioPlan(
                Scenario(proxies: ["p"], lease: .heartbeat(grace: .seconds(20)), timeline: scenario.timeline)
            )
        )
        _ = endFirst.start(now: self.t0)
        #expect(endFirst.advance(now: self.t0 + .seconds(30)) == [.restore(.completed)])
    }

    @Test func aFiniteTimelineCompletesAndAShorterBoundCutsIt() throws {
        let timeline: [TimelineItem] = [
            .repeatBlock(
                count: 3,
                items: [
                    .phase(PhaseSpec(name: "up", duration: .seconds(1))),
                    .phase(PhaseSpec(name: "down", duration: .seconds(1))),
                ]
            )
        ]
        var complete = try ScenarioEngine(
            plan: ScenarioPlan(Scenario(proxies: ["p"], lease: .none, timeline: timeline))
        )
        _ = complete.start(now: self.t0)
        var last: [ScenarioEngine.Action] = []
        while let wake = complete.nextWake { last = complete.advance(now: wake) }
        #expect(last == [.restore(.completed)])
        #expect(complete.history.count == 6)
        #expect(complete.endedAt == .seconds(6))

        var cut = try ScenarioEngine(
            plan: ScenarioPlan(Scenario(proxies: ["p"], bound: .milliseconds(4500), lease: .none, timeline: timeline))
        )
        _ = cut.start(now: self.t0)
        while let wake = cut.nextWake { last = cut.advance(now: wake) }
        #expect(last == [.restore(.boundReached)])
        #expect(cut.history.count == 5)
        #expect(cut.endedAt == .milliseconds(4500))
    }

    @Test func stopMidPhaseEndsOnce() throws {
        var engine = try ScenarioEngine(
            plan: ScenarioPlan(
                flapScenario(
                    up: .seconds(20),
                    down: .seconds(20),
                    bound: .seconds(600),
                    lease: .heartbeat(grace: .seconds(30))
                )
            )
        )
        _ = engine.start(now: self.t0)
        _ = engine.advance(now: self.t0 + .seconds(20))
        #expect(engine.currentPhase?.name == "down #1")
        #expect(engine.stop(now: self.t0 + .seconds(27), reason: .stopped) == [.restore(.stopped)])
        #expect(engine.state == .ended(.stopped))
        #expect(engine.currentPhase == nil)
        #expect(engine.history.last?.ended == .seconds(27))
        #expect(engine.endedAt == .seconds(27))
        #expect(engine.stop(now: self.t0 + .seconds(28), reason: .shutdown).isEmpty)
        #expect(engine.advance(now: self.t0 + .seconds(40)).isEmpty)
        #expect(engine.heartbeat(now: self.t0 + .seconds(29)) == false)
        #expect(engine.nextWake == nil)
        #expect(engine.state == .ended(.stopped))
    }

    @Test func beforeTheStart() throws {
        var engine = try ScenarioEngine(
            plan: ScenarioPlan(flapScenario(up: .seconds(1), down: .seconds(1), bound: .seconds(10)))
        )
        #expect(engine.state == .pending)
        #expect(engine.advance(now: self.t0).isEmpty)
        #expect(engine.heartbeat(now: self.t0) == false)
        #expect(engine.leaseExpiry == nil)
        _ = engine.start(now: self.t0)
        #expect(engine.start(now: self.t0).isEmpty)
        #expect(engine.origin == self.t0)
        #expect(engine.leaseExpiry == nil)

        var never = try ScenarioEngine(
            plan: ScenarioPlan(flapScenario(up: .seconds(1), down: .seconds(1), bound: .seconds(10)))
        )
        #expect(never.stop(now: self.t0, reason: .shutdown) == [.restore(.shutdown)])
        #expect(never.start(now: self.t0).isEmpty)
    }
}

/// A small deterministic generator, so a failing run can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
