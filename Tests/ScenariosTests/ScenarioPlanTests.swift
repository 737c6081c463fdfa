import Scenarios
import Testing
import ToxiproxyModel

func latencyToxic(_ name: String, _ stream: StreamDirection, ms: Int64, jitter: Int64 = 0, toxicity: Float = 1) -> Toxic
{
    var toxic = Toxic(name: name, type: .latency, stream: stream.rawValue, direction: stream, toxicity: toxicity)
    toxic.attributes["latency"] = ms
    toxic.attributes["jitter"] = jitter
    return toxic
}

func bandwidthToxic(_ name: String, _ stream: StreamDirection, rate: Int64) -> Toxic {
    var toxic = Toxic(name: name, type: .bandwidth, stream: stream.rawValue, direction: stream)
    toxic.attributes["rate"] = rate
    return toxic
}

@Suite struct ScenarioPlanTests {
    @Test func expandsTheSpecExample() throws {
        let plan = try ScenarioPlan(Scenario.parse(specExample))
        // Warm-up 10s + flap 20 × 30s = 610s: the bound (10m) cuts the last down phase, and the ramp and
        // `degraded` never run.
        #expect(plan.phaseCount == 41)
        #expect(plan.end == .seconds(600))
        #expect(plan.timelineLength == .seconds(700))
        #expect(plan.cycle.isEmpty)
        let names = plan.prefix.map(\.name)
        #expect(names.prefix(5) == ["warm-up", "up #1", "down #1", "up #2", "down #2"])
        #expect(names.last == "down #20")
        let down20 = try #require(plan.phase(at: 40))
        #expect(down20.start == .seconds(595))
        #expect(down20.duration == .seconds(5))
        #expect(plan.phase(at: 41) == nil)
        #expect(plan.prefix.count == 41)

        let down1 = try #require(plan.phase(at: 2))
        #expect(down1.start == .seconds(25))
        #expect(down1.duration == .seconds(15))
        #expect(down1.impaired && down1.outage)
        #expect(down1.states["api_groundlight_ai"] == ProxyState(enabled: false, toxics: []))
        let up1 = try #require(plan.phase(at: 1))
        #expect(!up1.impaired && !up1.outage)
        #expect(up1.states["api_groundlight_ai"] == ProxyState())
    }

    @Test func rampsStepLinearlyWithRoundedValues() throws {
        let plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p]
                timeline:
                  - ramp: {duration: 10s, steps: 4, latency: {from: 100, to: 200, jitter: 10}, bandwidth: {from: 1000, to: 0, direction: both}}
                  - {duration: 1s}
                """
            )
        )
        #expect(plan.phaseCount == 5)
        let steps = plan.prefix.prefix(4)
        #expect(steps.map(\.name) == ["ramp step 1/4", "ramp step 2/4", "ramp step 3/4", "ramp step 4/4"])
        #expect(steps.map(\.start) == [.zero, .milliseconds(2500), .seconds(5), .milliseconds(7500)])
        #expect(steps.map(\.duration) == Array(repeating: .milliseconds(2500), count: 4))
        // 100 + 100 * i / 3 → 100, 133, 167, 200; 1000 - 1000 * i / 3 → 1000, 667, 333, 0.
        let latencies = [Int64(100), 133, 167, 200]
        let rates = [Int64(1000), 667, 333, 0]
        for (step, phase) in steps.enumerated() {
            #expect(
                phase.states["p"]?.toxics == [
                    latencyToxic("fixed_latency_up", .upstream, ms: latencies[step], jitter: 10),
                    bandwidthToxic("bandwidth_up", .upstream, rate: rates[step]),
                    bandwidthToxic("bandwidth_down", .downstream, rate: rates[step]),
                ]
            )
        }
        #expect(plan.phase(at: 4)?.start == .seconds(10))
        #expect(plan.phase(at: 4)?.name == "phase 4")
    }

    @Test func rampStepsAddUpExactlyWhenTheDurationDoesNotDivide() throws {
        let plan = try ScenarioPlan(
            Scenario(
                proxies: ["p"],
                timeline: [.ramp(RampSpec(duration: .milliseconds(10), steps: 3, latency: RampValues(from: 0, to: 1)))]
            )
        )
        let phases = plan.prefix
        #expect(phases.map(\.duration).reduce(.zero, +) == .milliseconds(10))
        #expect(phases.last?.end == .milliseconds(10))
        #expect(phases.map { $0.states["p"]?.toxics.first?.attributes["latency"] } == [0, 1, 1])
    }

    @Test func statesUseTheSpecToxicNamesAndTheSubset() throws {
        let plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p, q]
                timeline:
                  - name: bad
                    duration: 1s
                    proxies: [q]
                    latency: {ms: 500, jitter: 50, direction: both, toxicity: 0.5}
                    timeout: {ms: 0}
                    bandwidth: {rate: 100}
                    toxics:
                      - {type: slicer, stream: upstream, attributes: {average_size: 10}}
                      - {type: reset_peer, name: reset, attributes: {timeout: 5}}
                """
            )
        )
        let phase = try #require(plan.phase(at: 0))
        #expect(phase.states["p"] == ProxyState())
        let toxics = try #require(phase.states["q"]?.toxics)
        #expect(
            toxics.map(\.name) == [
                "fixed_latency_up", "fixed_latency_down", "timeout_up", "timeout_down", "bandwidth_down",
                "scenario_slicer_upstream", "reset",
            ]
        )
        #expect(toxics[0] == latencyToxic("fixed_latency_up", .upstream, ms: 500, jitter: 50, toxicity: 0.5))
        #expect(toxics[3].type == .timeout && toxics[3].stream == "downstream" && toxics[3].attributes["timeout"] == 0)
        #expect(
            toxics[6].type == .resetPeer && toxics[6].stream == "downstream" && toxics[6].attributes["timeout"] == 5
        )
        #expect(phase.impaired && !phase.outage)
        #expect(plan.managedToxics == ["p": [], "q": Set(toxics.map(\.name))])
        #expect(plan.managedEnabled.isEmpty)
    }

    @Test func managedSetsCoverEveryPhase() throws {
        let plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p, q]
                timeline:
                  - {duration: 1s, proxies: [p], latency: {ms: 5}}
                  - {duration: 1s, proxies: [q], outage: true}
                  - {duration: 1s, bandwidth: {rate: 5, direction: up}}
                """
            )
        )
        #expect(plan.managedToxics == ["p": ["fixed_latency_up", "bandwidth_up"], "q": ["bandwidth_up"]])
        #expect(plan.managedEnabled == ["q"])
        #expect(plan.phase(at: 1)?.outage == true)
        #expect(plan.phase(at: 1)?.states["p"] == ProxyState())
    }

    @Test func nestedRepeatsNameTheirCycles() throws {
        let plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p]
                timeline:
                  - repeat: 2
                    phases:
                      - {name: a, duration: 1s}
                      - repeat: 3
                        phases: [{name: b, duration: 2s}]
                """
            )
        )
        #expect(plan.phaseCount == 8)
        #expect(
            plan.prefix.map(\.name) == ["a #1", "b #1.1", "b #1.2", "b #1.3", "a #2", "b #2.1", "b #2.2", "b #2.3"]
        )
        #expect(plan.prefix.map(\.start) == [0, 1, 3, 5, 7, 8, 10, 12].map { Duration.seconds($0) })
        #expect(plan.prefix.map(\.index) == Array(0..<8))
        #expect(plan.end == .seconds(14))
    }

    @Test func phaseIndexFollowsTheSchedule() throws {
        let plan = try ScenarioPlan(Scenario.parse(specExample))
        #expect(plan.phaseIndex(at: .zero) == 0)
        #expect(plan.phaseIndex(at: .milliseconds(9999)) == 0)
        #expect(plan.phaseIndex(at: .seconds(10)) == 1)
        #expect(plan.phaseIndex(at: .seconds(25)) == 2)
        #expect(plan.phaseIndex(at: .milliseconds(599_999)) == 40)
        #expect(plan.phaseIndex(at: .seconds(600)) == nil)
        #expect(plan.phaseIndex(at: .seconds(-1)) == nil)
        // Every phase's start maps back to it.
        for phase in plan.prefix {
            #expect(plan.phaseIndex(at: phase.start) == phase.index)
            #expect(plan.phaseIndex(at: phase.end - .nanoseconds(1)) == phase.index)
        }
    }

    @Test func anEndlessRepeatCyclesUntilTheBound() throws {
        let plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p]
                for: 100s
                timeline:
                  - {name: warm, duration: 5s}
                  - repeat: forever
                    phases:
                      - {name: up, duration: 20s}
                      - {name: down, duration: 10s, outage: true}
                """
            )
        )
        #expect(plan.timelineLength == nil)
        #expect(plan.end == .seconds(100))
        #expect(plan.prefix.map(\.name) == ["warm"])
        #expect(plan.cycle.map(\.name) == ["up #1", "down #1"])
        #expect(plan.cycle.map(\.start) == [.zero, .seconds(20)])
        // warm 0-5, up 5-25, down 25-35, up 35-55, down 55-65, up 65-85, down 85-95, up 95-100 (cut).
        #expect(plan.phaseCount == 8)
        let last = try #require(plan.phase(at: 7))
        #expect(last.name == "up #4")
        #expect(last.start == .seconds(95))
        #expect(last.duration == .seconds(5))
        #expect(plan.phase(at: 8) == nil)
        #expect(plan.phase(at: 6)?.name == "down #3")
        #expect(plan.phase(at: 6)?.outage == true)
        #expect(plan.phaseIndex(at: .seconds(60)) == 4)
        #expect(plan.phaseIndex(at: .seconds(65)) == 5)
        #expect(plan.phaseIndex(at: .seconds(100)) == nil)
    }

    @Test func hugeRepeatsNeedNoMemoryPerPhase() throws {
        let plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p]
                for: 100s
                timeline:
                  - repeat: 100000
                    phases:
                      - repeat: 100000
                        phases: [{name: up, duration: 1ms}, {name: down, duration: 1ms, latency: {ms: 1}}]
                """
            )
        )
        // The timeline is 2·10¹⁰ phases long; the bound keeps the first 100,000 (the most a run may have).
        #expect(plan.timelineLength == .milliseconds(20_000_000_000))
        #expect(plan.phaseCount == 100_000)
        let last = try #require(plan.phase(at: 99_999))
        #expect(last.name == "down #1.50000")
        #expect(last.start == .milliseconds(99_999))
        #expect(plan.phaseIndex(at: .milliseconds(99_999)) == 99_999)
        #expect(plan.phase(at: 100_000) == nil)
        let middle = try #require(plan.phase(at: 20_001))
        #expect(middle.name == "down #1.10001")
        #expect(middle.start == .milliseconds(20_001))
    }

    @Test func validatesWhatItExpands() {
        #expect(throws: ScenarioError.invalid("timeline", "must have at least one phase")) {
            try ScenarioPlan(Scenario(proxies: ["p"], timeline: []))
        }
    }
}

extension ScenarioPlanTests {
    @Test func theWholeSpecExampleWithoutItsBound() throws {
        var scenario = try Scenario.parse(specExample)
        scenario.bound = nil
        let plan = try ScenarioPlan(scenario)
        // 1 warm-up + 40 flap phases + 10 ramp steps + 1 degraded, 700s.
        #expect(plan.phaseCount == 52)
        #expect(plan.end == .seconds(700))
        let names = plan.prefix.map(\.name)
        #expect(names[41] == "slow-down step 1/10")
        #expect(names[50] == "slow-down step 10/10")
        #expect(names[51] == "degraded")
        #expect(plan.phase(at: 41)?.start == .seconds(610))
        #expect(plan.phase(at: 51)?.start == .seconds(670))
        #expect(plan.phase(at: 51)?.duration == .seconds(30))
        // Latency from 100 to 2000 up, bandwidth from 1000 to 10 down.
        let lastStep = try #require(plan.phase(at: 50)?.states["api_groundlight_ai"])
        #expect(lastStep.toxics.map { $0.attributes.values.first?.value } == [2000, 10])
    }
}

@Test func aPlanOfMoreThanTheMaximumPhaseCountIsRefusedNamingFor() throws {
    let scenario = Scenario(
        proxies: ["p"],
        bound: .seconds(3600),
        lease: .none,
        timeline: [.repeatBlock(count: nil, items: [.phase(PhaseSpec(duration: .milliseconds(10)))])]
    )
    // 3600 s of 10 ms phases is 360,000 phases.
    #expect(
        throws: ScenarioError.invalid(
            "for",
            "the scenario would run 360000 phases; at most 100000 (make the phases longer or `for` shorter)"
        )
    ) {
        try ScenarioPlan(scenario)
    }
    let fits = Scenario(
        proxies: ["p"],
        bound: .seconds(1000),
        lease: .none,
        timeline: [.repeatBlock(count: nil, items: [.phase(PhaseSpec(duration: .milliseconds(10)))])]
    )
    #expect(try ScenarioPlan(fits).phaseCount == 100_000)
}
