import Scenarios
import Testing
import ToxiproxyModel

/// The example of docs/scenarios.md, verbatim.
let specExample = """
    name: api-flap               # optional label
    proxies: [api_groundlight_ai] # the proxies it impairs (required, at least one)
    for: 10m                     # hard bound; default: the timeline's length (required for an endless repeat)
    lease:                       # default: heartbeat with grace 30s
      grace: 30s                 # `lease: none` opts out (then only `for` ends it)
    timeline:
      - name: warm-up            # a phase: a duration and the impairment held during it
        duration: 10s            # nothing else = healthy
      - repeat: 20               # `repeat: forever` (only as the last item) repeats until `for`
        phases:
          - {name: up, duration: 15s}
          - {name: down, duration: 15s, outage: true}
      - ramp:                    # `steps` phases of duration/steps each, values linear from..to (both included)
          name: slow-down
          duration: 60s
          steps: 10
          latency: {from: 100, to: 2000, jitter: 0, direction: up}   # ms
          bandwidth: {from: 1000, to: 10, direction: down}            # KB/s (either or both)
      - name: degraded
        duration: 30s
        proxies: [api_groundlight_ai]   # optional subset; the scenario's other proxies are healthy here
        latency: {ms: 500, jitter: 50, direction: up, toxicity: 1.0}
        timeout: {ms: 0, direction: both}          # 0 = data is held forever (the connection hangs)
        bandwidth: {rate: 100, direction: down}    # KB/s
        outage: false                              # true = proxy disabled: listener closed, connections cut
        toxics:                                    # any toxic, as the Toxiproxy API takes it
          - {type: slicer, stream: upstream, toxicity: 0.5, attributes: {average_size: 10, delay: 100}}
    """

/// A minimal valid scenario around one phase written as YAML flow text.
func scenarioText(phase: String, extra: String = "") -> String {
    """
    proxies: [p, q]
    \(extra)
    timeline:
      - \(phase)
    """
}

let durationReason = "must be a duration like 15s, 1m30s or 150ms (a bare number is milliseconds)"

func parseError(_ text: String) -> ScenarioError? {
    do {
        _ = try Scenario.parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct ScenarioParsingTests {
    @Test func parsesTheSpecExample() throws {
        let scenario = try Scenario.parse(specExample)
        #expect(scenario.name == "api-flap")
        #expect(scenario.proxies == ["api_groundlight_ai"])
        #expect(scenario.bound == .seconds(600))
        #expect(scenario.lease == .heartbeat(grace: .seconds(30)))
        #expect(scenario.timeline.count == 4)
        #expect(scenario.timeline[0] == .phase(PhaseSpec(name: "warm-up", duration: .seconds(10))))
        #expect(
            scenario.timeline[1]
                == .repeatBlock(
                    count: 20,
                    items: [
                        .phase(PhaseSpec(name: "up", duration: .seconds(15))),
                        .phase(PhaseSpec(name: "down", duration: .seconds(15), impairment: Impairment(outage: true))),
                    ]
                )
        )
        let ramp = RampSpec(
            name: "slow-down",
            duration: .seconds(60),
            steps: 10,
            latency: RampValues(from: 100, to: 2000),
            bandwidth: RampValues(from: 1000, to: 10)
        )
        #expect(scenario.timeline[2] == .ramp(ramp))
        guard case .phase(let degraded) = scenario.timeline[3] else {
            Issue.record("expected a phase")
            return
        }
        #expect(degraded.proxies == ["api_groundlight_ai"])
        #expect(degraded.impairment.latency == Impairment.Latency(milliseconds: 500, jitterMilliseconds: 50))
        #expect(degraded.impairment.timeout == Impairment.Timeout(milliseconds: 0, direction: .both))
        #expect(degraded.impairment.bandwidth == Impairment.Bandwidth(rate: 100, direction: .downstream))
        #expect(degraded.impairment.outage == false)
        var slicer = Toxic(
            name: "scenario_slicer_upstream",
            type: .slicer,
            stream: "upstream",
            direction: .upstream,
            toxicity: 0.5
        )
        slicer.attributes["average_size"] = 10
        slicer.attributes["delay"] = 100
        #expect(degraded.impairment.toxics == [slicer])
    }

    @Test func jsonAndYAMLGiveTheSameScenario() throws {
        let yaml = try Scenario.parse(specExample)
        let json = try Scenario.parse(yaml.jsonText)
        #expect(json == yaml)
        #expect(yaml.jsonText.hasPrefix(#"{"name":"api-flap","proxies":["api_groundlight_ai"],"for":"10m""#))
    }

    @Test func roundTripsThroughJSON() throws {
        var toxic = Toxic(name: "cut", type: .limitData, stream: "downstream", direction: .downstream, toxicity: 0.25)
        toxic.attributes["bytes"] = 4096
        let scenario = try Scenario(
            name: "everything",
            proxies: ["a", "b"],
            bound: .seconds(3600),
            lease: .none,
            timeline: [
                .phase(PhaseSpec(duration: .milliseconds(1500))),
                .ramp(
                    RampSpec(
                        duration: .seconds(10),
                        steps: 5,
                        proxies: ["b"],
                        latency: RampValues(from: 10, to: 50),
                        latencyJitterMilliseconds: 5,
                        latencyDirection: .both
                    )
                ),
                .repeatBlock(
                    count: 3,
                    items: [
                        .phase(
                            PhaseSpec(
                                name: "bad",
                                duration: .seconds(2),
                                proxies: ["a"],
                                impairment: Impairment(
                                    latency: .init(
                                        milliseconds: 100,
                                        jitterMilliseconds: 10,
                                        direction: .downstream,
                                        toxicity: 0.75
                                    ),
                                    timeout: .init(milliseconds: 5, direction: .upstream, toxicity: 0.5),
                                    bandwidth: .init(rate: 7, direction: .both),
                                    outage: true,
                                    toxics: [toxic]
                                )
                            )
                        ),
                        .repeatBlock(count: 2, items: [.phase(PhaseSpec(name: "ok", duration: .seconds(1)))]),
                    ]
                ),
                .repeatBlock(count: nil, items: [.phase(PhaseSpec(name: "tail", duration: .seconds(1)))]),
            ]
        ).validated()
        #expect(try Scenario(json: scenario.jsonValue) == scenario)
        #expect(try Scenario.parse(scenario.jsonText) == scenario)
    }

    @Test func fillsTheBoundWithTheTimelineLength() throws {
        let scenario = try Scenario.parse(specExample.replacingFor(with: ""))
        // 10s + 20 × 30s + 60s + 30s
        #expect(scenario.bound == .seconds(700))
        let short = try Scenario.parse(scenarioText(phase: "{duration: 1500}"))
        #expect(short.bound == .milliseconds(1500))
        #expect(short.lease == .heartbeat(grace: .seconds(30)))
    }

    @Test func bareNumbersAreMilliseconds() throws {
        let scenario = try Scenario.parse(
            #"{"proxies": ["p"], "for": 2500, "lease": {"grace": 1000}, "timeline": [{"duration": 2.5}]}"#
        )
        #expect(scenario.bound == .milliseconds(2500))
        #expect(scenario.lease == .heartbeat(grace: .seconds(1)))
        #expect(scenario.timeline == [.phase(PhaseSpec(duration: .microseconds(2500)))])
    }

    @Test func acceptsLongDirectionNamesAndLeaseNone() throws {
        let scenario = try Scenario.parse(
            scenarioText(
                phase:
                    "{duration: 1s, latency: {ms: 5, direction: downstream}, bandwidth: {rate: 1, direction: upstream}}",
                extra: "lease: none"
            )
        )
        #expect(scenario.lease == .none)
        guard case .phase(let phase) = scenario.timeline[0] else {
            Issue.record("expected a phase")
            return
        }
        #expect(phase.impairment.latency?.direction == .downstream)
        #expect(phase.impairment.bandwidth?.direction == .upstream)
    }

    @Test(arguments: [
        // (phase, field, reason)
        (
            "{repeat: 2, phases: [{duration: 1s, latency: {ms: -5}}]}",
            "timeline[0].repeat.phases[0].latency.ms",
            "must be a whole number of milliseconds >= 0, got -5"
        ),
        (
            "{duration: 1s, latency: {ms: 1.5}}", "timeline[0].latency.ms",
            "must be a whole number of milliseconds >= 0, got 1.5"
        ),
        (
            "{duration: 1s, latency: {ms: 10, jitter: 11}}", "timeline[0].latency.jitter",
            "must be a whole number of milliseconds from 0 to ms (10), got 11"
        ),
        (
            "{duration: 1s, latency: {ms: 10, toxicity: 1.5}}", "timeline[0].latency.toxicity",
            "must be a number from 0 to 1, got 1.5"
        ),
        (
            "{duration: 1s, latency: {ms: 10, direction: sideways}}", "timeline[0].latency.direction",
            "must be up, down or both (or upstream, downstream), got \"sideways\""
        ),
        ("{duration: 1s, latency: {jitter: 1}}", "timeline[0].latency.ms", "required: the delay in milliseconds"),
        (
            "{duration: 1s, timeout: {ms: -1}}", "timeline[0].timeout.ms",
            "must be a whole number of milliseconds >= 0, got -1"
        ),
        (
            "{duration: 1s, bandwidth: {rate: -1}}", "timeline[0].bandwidth.rate",
            "must be a whole number of KB/s >= 0, got -1"
        ),
        ("{duration: 0s}", "timeline[0].duration", "must be a duration of at least 1ms, got 0s"),
        (
            "{duration: -1s}", "timeline[0].duration",
            "must be a duration like 15s, 1m30s or 150ms (a bare number is milliseconds), got \"-1s\""
        ),
        (
            "{duration: 1s, durration: 2s}", "timeline[0].durration",
            "unknown key; a phase takes name, duration, proxies, latency, timeout, bandwidth, outage, toxics"
        ),
        ("{name: x}", "timeline[0].duration", "required: how long the phase lasts, like 15s"),
        (
            "{duration: 1s, Outage: true}", "timeline[0].Outage",
            "unknown key; a phase takes name, duration, proxies, latency, timeout, bandwidth, outage, toxics"
        ),
        ("{duration: 1s, outage: yes}", "timeline[0].outage", "must be true or false, got \"yes\""),
        (
            "{duration: 1s, proxies: [r]}", "timeline[0].proxies[0]",
            "must be one of the scenario's proxies (p, q), got \"r\""
        ),
        ("{duration: 1s, proxies: [p, p]}", "timeline[0].proxies[1]", "\"p\" is listed twice"),
        ("{duration: 1s, proxies: []}", "timeline[0].proxies", "must list at least one proxy (leave it out for all)"),
        (
            "{repeat: 0, phases: [{duration: 1s}]}", "timeline[0].repeat",
            "must be a whole number from 1 to 100000, or forever, got 0"
        ),
        (
            "{repeat: 100001, phases: [{duration: 1s}]}", "timeline[0].repeat",
            "must be a whole number from 1 to 100000, or forever, got 100001"
        ),
        (
            "{repeat: often, phases: [{duration: 1s}]}", "timeline[0].repeat",
            "must be a whole number from 1 to 100000, or forever, got \"often\""
        ),
        ("{repeat: 2, phases: []}", "timeline[0].repeat.phases", "must have at least one phase"),
        ("{repeat: 2}", "timeline[0].repeat.phases", "required: the phases to repeat"),
        (
            "{repeat: 2, phases: [{repeat: forever, phases: [{duration: 1s}]}]}",
            "timeline[0].repeat.phases[0].repeat",
            "forever is only allowed on the last item of the timeline (not inside a repeat)"
        ),
        (
            "{ramp: {duration: 10s, steps: 1, latency: {from: 1, to: 2}}}", "timeline[0].ramp.steps",
            "must be a whole number from 2 to 1000, got 1"
        ),
        (
            "{ramp: {duration: 10s, steps: 1001, latency: {from: 1, to: 2}}}", "timeline[0].ramp.steps",
            "must be a whole number from 2 to 1000, got 1001"
        ),
        (
            "{ramp: {duration: 5ms, steps: 10, latency: {from: 1, to: 2}}}", "timeline[0].ramp.duration",
            "must give each of the 10 steps at least 1ms, got 5ms"
        ),
        ("{ramp: {duration: 10s, steps: 2}}", "timeline[0].ramp", "must ramp latency, bandwidth or both"),
        (
            "{ramp: {duration: 10s, steps: 2, latency: {from: -1, to: 2}}}", "timeline[0].ramp.latency.from",
            "must be a whole number of milliseconds >= 0, got -1"
        ),
        (
            "{ramp: {duration: 10s, steps: 2, latency: {from: 5, to: 20, jitter: 6}}}",
            "timeline[0].ramp.latency.jitter",
            "must be a whole number of milliseconds from 0 to the lowest latency (5), got 6"
        ),
        (
            "{ramp: {duration: 10s, steps: 2, bandwidth: {from: 5}}}", "timeline[0].ramp.bandwidth.to",
            "required: the last value"
        ),
        (
            "{ramp: {duration: 10s, steps: 2, latency: {from: 1, to: 2}}, name: x}", "timeline[0].name",
            "unknown key; a ramp takes ramp"
        ),
        (
            "{duration: 1s, toxics: [{type: jitter}]}", "timeline[0].toxics[0].type",
            "must be one of latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, noop, got \"jitter\""
        ),
        (
            "{duration: 1s, toxics: [{stream: upstream}]}", "timeline[0].toxics[0].type",
            "required: one of latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, noop"
        ),
        (
            "{duration: 1s, toxics: [{type: slicer, stream: up}]}", "timeline[0].toxics[0].stream",
            "must be upstream or downstream, got \"up\""
        ),
        (
            "{duration: 1s, toxics: [{type: slicer, attributes: {size: 1}}]}", "timeline[0].toxics[0].attributes.size",
            "not an attribute of slicer (it has average_size, size_variation, delay)"
        ),
        (
            "{duration: 1s, toxics: [{type: noop, attributes: {size: 1}}]}", "timeline[0].toxics[0].attributes.size",
            "not an attribute of noop (it has none)"
        ),
        (
            "{duration: 1s, toxics: [{type: slicer, attributes: {delay: -1}}]}",
            "timeline[0].toxics[0].attributes.delay", "must be a whole number >= 0, got -1"
        ),
        (
            "{duration: 1s, toxics: [{type: slicer, attributes: {delay: 1.5}}]}",
            "timeline[0].toxics[0].attributes.delay", "must be a whole number >= 0, got 1.5"
        ),
        (
            "{duration: 1s, toxics: [{type: slicer, toxicity: 2}]}", "timeline[0].toxics[0].toxicity",
            "must be a number from 0 to 1, got 2.0"
        ),
        (
            "{duration: 1s, toxics: [{type: slicer, name: ''}]}", "timeline[0].toxics[0].name",
            "must not be empty (leave it out for scenario_TYPE_STREAM)"
        ),
        (
            "{duration: 1s, toxics: [{type: slicer}, {type: slicer, attributes: {delay: 5}}]}",
            "timeline[0].toxics[1]",
            "the toxic name \"scenario_slicer_downstream\" is already used in this phase by toxics[0]"
        ),
        (
            "{duration: 1s, latency: {ms: 5, direction: both}, toxics: [{type: latency, name: fixed_latency_down}]}",
            "timeline[0].toxics[0]",
            "the toxic name \"fixed_latency_down\" is already used in this phase by latency"
        ),
        ("{duration: 1s, toxics: {type: slicer}}", "timeline[0].toxics", "must be a list of toxics, got a mapping"),
        ("[1, 2]", "timeline[0]", "must be a phase, a repeat or a ramp (a mapping), got a list"),
    ])
    func namesTheFieldAtFault(phase: String, field: String, reason: String) {
        let error = parseError(scenarioText(phase: phase))
        #expect(error == ScenarioError.invalid(field, reason), "\(phase)")
    }

    @Test(arguments: [
        ("proxies: []\ntimeline: [{duration: 1s}]", "proxies", "must list at least one proxy"),
        ("proxies: [a, a]\ntimeline: [{duration: 1s}]", "proxies[1]", "\"a\" is listed twice"),
        ("proxies: ['']\ntimeline: [{duration: 1s}]", "proxies[0]", "must be a proxy name, got \"\""),
        ("proxies: a\ntimeline: [{duration: 1s}]", "proxies", "must be a list of proxy names, got \"a\""),
        ("timeline: [{duration: 1s}]", "proxies", "required: the list of proxies the scenario impairs"),
        ("proxies: [a]", "timeline", "required: the list of phases"),
        ("proxies: [a]\ntimeline: []", "timeline", "must have at least one phase"),
        (
            "proxies: [a]\nfor: 25h\ntimeline: [{duration: 1s}]", "for",
            "must be a duration > 0 and at most 24h, got 25h"
        ),
        ("proxies: [a]\nfor: 0s\ntimeline: [{duration: 1s}]", "for", "must be a duration > 0 and at most 24h, got 0s"),
        (
            "proxies: [a]\nlease: {grace: 500ms}\ntimeline: [{duration: 1s}]", "lease.grace",
            "must be a duration from 1s to 1h, got 500ms"
        ),
        (
            "proxies: [a]\nlease: {grace: 2h}\ntimeline: [{duration: 1s}]", "lease.grace",
            "must be a duration from 1s to 1h, got 2h"
        ),
        (
            "proxies: [a]\nlease: forever\ntimeline: [{duration: 1s}]", "lease",
            "must be none or {grace: DURATION}, got \"forever\""
        ),
        ("proxies: [a]\nlease: {ttl: 1s}\ntimeline: [{duration: 1s}]", "lease.ttl", "unknown key; a lease takes grace"),
        (
            "proxies: [a]\nlabel: x\ntimeline: [{duration: 1s}]", "label",
            "unknown key; a scenario takes name, proxies, for, lease, timeline"
        ),
        ("proxies: [a]\nname: 7\ntimeline: [{duration: 1s}]", "name", "must be a string, got 7"),
        (
            "proxies: [a]\ntimeline: [{repeat: forever, phases: [{duration: 1s}]}]", "for",
            "required when the timeline repeats forever (at most 24h)"
        ),
        (
            "proxies: [a]\nfor: 1h\ntimeline: [{repeat: forever, phases: [{duration: 1s}]}, {duration: 1s}]",
            "timeline[0].repeat",
            "forever is only allowed on the last item of the timeline (not inside a repeat)"
        ),
        (
            "proxies: [a]\ntimeline: [{repeat: 100000, phases: [{duration: 1s}]}]",
            "for",
            "required when the timeline lasts more than 24h (it lasts 27h46m40s)"
        ),
        (
            "proxies: [a]\ntimeline: [{repeat: 100000, phases: [{repeat: 100000, phases: [{repeat: 100000, phases: [{duration: 1h}]}]}]}]",
            "for",
            "required when the timeline lasts more than 24h (it lasts more than 10 years)"
        ),
        ("- 1\n- 2", "", "must be a scenario (a mapping), got a list"),
    ])
    func namesTheScenarioFieldAtFault(text: String, field: String, reason: String) {
        let error = parseError(text)
        #expect(error == ScenarioError.invalid(field, reason), "\(text)")
    }

    @Test func aLongTimelineIsFineWithABound() throws {
        let scenario = try Scenario.parse(
            "proxies: [a]\nfor: 24h\ntimeline: [{repeat: 100000, phases: [{repeat: 100000, phases: [{duration: 1h}]}]}]"
        )
        #expect(scenario.bound == .seconds(86400))
    }

    @Test func errorDescriptionIsFieldColonReason() {
        let error = parseError(scenarioText(phase: "{duration: 1s, latency: {ms: -5}}"))
        #expect(error?.description == "timeline[0].latency.ms: must be a whole number of milliseconds >= 0, got -5")
    }

    @Test func yamlSyntaxErrorsGiveTheLine() throws {
        let error = try #require(parseError("proxies: [a]\ntimeline:\n  - {duration: 1s\n  - x: ]"))
        #expect(error.code == .syntax)
        #expect(error.field == "")
        #expect(error.reason.hasPrefix("not valid YAML: line "), "\(error.reason)")
    }

    @Test func duplicateKeysAreErrors() throws {
        let yaml = try #require(parseError("proxies: [a]\nproxies: [b]\ntimeline: [{duration: 1s}]"))
        #expect(yaml.code == .syntax)
        #expect(yaml.reason.contains("duplicate key proxies"), "\(yaml.reason)")
        let json = try #require(parseError(#"{"proxies": ["a"], "timeline": [{"duration": 1000, "duration": 2000}]}"#))
        #expect(json == ScenarioError.invalid("timeline[0].duration", "appears twice"))
    }

    @Test func badJSONIsASyntaxError() throws {
        let error = try #require(parseError(#"{"proxies": ["a"] "timeline": []}"#))
        #expect(error.code == .syntax)
        #expect(error.reason.hasPrefix("not valid JSON: invalid character"), "\(error.reason)")
    }

    @Test func emptyTextIsASyntaxError() throws {
        let error = try #require(parseError("  \n# nothing\n"))
        #expect(error == ScenarioError(code: .syntax, field: "", reason: "the scenario is empty"))
    }

    @Test func yamlFlowMappingThatIsNotJSONStillParses() throws {
        let scenario = try Scenario.parse("{proxies: [a], timeline: [{duration: 1s}]}")
        #expect(scenario.proxies == ["a"])
    }

    @Test func yamlNumbersInOtherSpellings() throws {
        let scenario = try Scenario.parse(scenarioText(phase: "{duration: 1s, latency: {ms: 0x10, jitter: 1_0}}"))
        guard case .phase(let phase) = scenario.timeline[0] else {
            Issue.record("expected a phase")
            return
        }
        #expect(phase.impairment.latency == Impairment.Latency(milliseconds: 16, jitterMilliseconds: 10))
    }

    @Test func yaml11SurprisesAreStrings() throws {
        let scenario = try Scenario.parse("name: on\nproxies: [no, off]\ntimeline: [{duration: 1s}]")
        #expect(scenario.name == "on")
        #expect(scenario.proxies == ["no", "off"])
        let error = parseError(scenarioText(phase: "{duration: 1:30}"))
        #expect(error == ScenarioError.invalid("timeline[0].duration", "\(durationReason), got \"1:30\""))
    }

    @Test func aliasBombsAreRefused() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        let error = try #require(parseError(text))
        #expect(error.reason.hasPrefix("the document is too large"), "\(error)")
    }

    @Test func validatedFlagsABadScenarioBuiltInCode() {
        let scenario = Scenario(
            proxies: ["p"],
            timeline: [.phase(PhaseSpec(duration: .seconds(1), proxies: ["x"]))]
        )
        #expect(
            throws: ScenarioError.invalid(
                "timeline[0].proxies[0]",
                "must be one of the scenario's proxies (p), got \"x\""
            )
        ) {
            try scenario.validated()
        }
        let badStream = Scenario(
            proxies: ["p"],
            timeline: [
                .phase(
                    PhaseSpec(
                        duration: .seconds(1),
                        impairment: Impairment(toxics: [
                            Toxic(name: "t", type: .noop, stream: "UpStream", direction: .upstream)
                        ])
                    )
                )
            ]
        )
        #expect(
            throws: ScenarioError.invalid(
                "timeline[0].toxics[0].stream",
                "must be upstream or downstream, got \"UpStream\""
            )
        ) {
            try badStream.validated()
        }
    }
}

extension String {
    /// The spec example without its `for:` line.
    fileprivate func replacingFor(with replacement: String) -> String {
        self.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("for:") ? Substring(replacement) : $0 }
            .joined(separator: "\n")
    }
}
