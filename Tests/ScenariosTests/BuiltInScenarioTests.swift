import Scenarios
import Testing
import ToxiproxyModel

@Suite struct BuiltInScenarioTests {
    @Test func singleIsOneImpairedPhaseBoundedByItsDuration() throws {
        let scenario = Scenario.single(
            proxy: "p",
            impairment: Impairment(latency: .init(milliseconds: 500)),
            for: .seconds(90),
            lease: .heartbeat(grace: .seconds(10))
        )
        #expect(scenario.name == "latency 500ms")
        #expect(scenario.proxies == ["p"])
        #expect(scenario.bound == .seconds(90))
        #expect(scenario.lease == .heartbeat(grace: .seconds(10)))
        #expect(try scenario.validated() == scenario)
        let plan = try ScenarioPlan(scenario)
        #expect(plan.phaseCount == 1)
        let phase = try #require(plan.phase(at: 0))
        #expect(phase.name == "latency 500ms")
        #expect(phase.duration == .seconds(90))
        #expect(phase.states["p"]?.toxics == [latencyToxic("fixed_latency_up", .upstream, ms: 500)])

        var engine = ScenarioEngine(plan: plan)
        _ = engine.start(now: .zero)
        // Heartbeats every 5 s keep the 10 s lease alive until the phase is over.
        for second in stride(from: 5, to: 90, by: 5) {
            #expect(engine.advance(now: .seconds(second)).isEmpty)
            #expect(engine.heartbeat(now: .seconds(second)) == true)
        }
        #expect(engine.advance(now: .seconds(90)) == [.restore(.completed)])
    }

    @Test func labels() {
        #expect(Scenario.single(proxy: "p", impairment: Impairment(outage: true), for: .seconds(1)).name == "outage")
        #expect(Impairment(timeout: .init(milliseconds: 0)).label == "timeout 0ms")
        #expect(
            Impairment(latency: .init(milliseconds: 5, jitterMilliseconds: 2), bandwidth: .init(rate: 9)).label
                == "latency 5ms ±2ms + bandwidth 9KB/s"
        )
        #expect(Impairment.healthy.label == "healthy")
    }

    @Test func aCountedFlapRepeatsUpAndDown() throws {
        let scenario = Scenario.flap(
            proxy: "p",
            up: .seconds(15),
            down: .seconds(5),
            impairment: Impairment(outage: true),
            iterations: 3,
            bound: nil
        )
        #expect(scenario.bound == .seconds(60))
        #expect(scenario.lease == .heartbeat(grace: Lease.defaultGrace))
        let plan = try ScenarioPlan(scenario)
        #expect(plan.prefix.map(\.name) == ["up #1", "down #1", "up #2", "down #2", "up #3", "down #3"])
        #expect(plan.prefix.map(\.outage) == [false, true, false, true, false, true])
        #expect(plan.prefix.map(\.start) == [0, 15, 20, 35, 40, 55].map { Duration.seconds($0) })
        // A bound shorter than the flap cuts it.
        let cut = Scenario.flap(
            proxy: "p",
            up: .seconds(15),
            down: .seconds(5),
            impairment: Impairment(outage: true),
            iterations: 3,
            bound: .seconds(30)
        )
        #expect(try ScenarioPlan(cut).phaseCount == 3)
    }

    @Test func anEndlessFlapRunsUntilItsBound() throws {
        let scenario = Scenario.flap(
            proxy: "p",
            up: .seconds(10),
            down: .seconds(10),
            impairment: Impairment(latency: .init(milliseconds: 100)),
            iterations: 0,
            bound: .seconds(45),
            lease: .none
        )
        #expect(
            scenario.timeline == [
                .repeatBlock(
                    count: nil,
                    items: [
                        .phase(PhaseSpec(name: "up", duration: .seconds(10))),
                        .phase(
                            PhaseSpec(
                                name: "down",
                                duration: .seconds(10),
                                impairment: Impairment(latency: .init(milliseconds: 100))
                            )
                        ),
                    ]
                )
            ]
        )
        let plan = try ScenarioPlan(scenario)
        #expect(plan.end == .seconds(45))
        #expect(plan.phaseCount == 5)
        #expect(plan.phase(at: 4)?.name == "up #3")
        #expect(plan.phase(at: 4)?.duration == .seconds(5))

        let unbounded = Scenario.flap(
            proxy: "p",
            up: .seconds(1),
            down: .seconds(1),
            impairment: Impairment(outage: true),
            iterations: 0,
            bound: nil
        )
        #expect(unbounded.bound == .seconds(24 * 3600))
        #expect(try unbounded.validated() == unbounded)
    }

    @Test func builtInsSurviveTheWire() throws {
        let flap = Scenario.flap(
            proxy: "p",
            up: .milliseconds(150),
            down: .milliseconds(150),
            impairment: Impairment(outage: true),
            iterations: 20,
            bound: nil
        )
        #expect(try Scenario.parse(flap.jsonText) == flap)
        let single = Scenario.single(
            proxy: "p",
            impairment: Impairment(timeout: .init(milliseconds: 0)),
            for: .seconds(30),
            lease: .none
        )
        #expect(try Scenario(json: single.jsonValue) == single)
    }
}
