import Scenarios
import Testing
import ToxiproxyModel

func proxy(_ name: String, enabled: Bool = true, toxics: [Toxic] = []) -> Proxy {
    Proxy(name: name, listen: "127.0.0.1:0", upstream: "127.0.0.1:1", enabled: enabled, toxics: toxics)
}

/// Proxies as they are after `changes` ran on them, the way the admin API would apply them.
func applying(_ changes: [ProxyChange], to proxies: [Proxy]) -> [Proxy] {
    var proxies = proxies
    for change in changes {
        guard let index = proxies.firstIndex(where: { $0.name == change.proxy }) else { continue }
        switch change {
        case .setEnabled(_, let enabled):
            proxies[index].enabled = enabled
        case .removeToxic(_, let name):
            proxies[index].toxics.removeAll { $0.name == name }
        case .setToxic(_, let toxic):
            if let existing = proxies[index].toxics.firstIndex(where: { $0.name == toxic.name }) {
                proxies[index].toxics[existing] = toxic
            } else {
                proxies[index].toxics.append(toxic)
            }
        }
    }
    return proxies
}

@Suite struct ChangePlanTests {
    /// Latency 500 ms on p, then an outage of p and q, then healthy.
    let plan: ScenarioPlan

    init() throws {
        self.plan = try ScenarioPlan(
            Scenario.parse(
                """
                proxies: [p, q]
                timeline:
                  - {name: slow, duration: 1s, proxies: [p], latency: {ms: 500}}
                  - {name: dark, duration: 1s, outage: true}
                  - {name: fine, duration: 1s}
                """
            )
        )
    }

    var manual: Toxic { latencyToxic("manual_latency", .downstream, ms: 42) }

    @Test func phasesSetTheirToxicsAndLeaveOthersAlone() throws {
        let baseline = [proxy("p", toxics: [self.manual]), proxy("q")]
        let slow = try #require(self.plan.phase(at: 0))
        let toSlow = ChangePlan.phaseChanges(plan: self.plan, current: baseline, target: slow.states)
        #expect(toSlow == [.setToxic(proxy: "p", toxic: latencyToxic("fixed_latency_up", .upstream, ms: 500))])
        let afterSlow = applying(toSlow, to: baseline)

        // A disable comes first, the removal of the latency toxic next; the manual toxic stays.
        let dark = try #require(self.plan.phase(at: 1))
        let toDark = ChangePlan.phaseChanges(plan: self.plan, current: afterSlow, target: dark.states)
        #expect(
            toDark == [
                .setEnabled(proxy: "p", enabled: false), .setEnabled(proxy: "q", enabled: false),
                .removeToxic(proxy: "p", name: "fixed_latency_up"),
            ]
        )
        let afterDark = applying(toDark, to: afterSlow)
        #expect(afterDark[0].toxics == [self.manual])

        let fine = try #require(self.plan.phase(at: 2))
        let toFine = ChangePlan.phaseChanges(plan: self.plan, current: afterDark, target: fine.states)
        #expect(toFine == [.setEnabled(proxy: "p", enabled: true), .setEnabled(proxy: "q", enabled: true)])
        // Already there: nothing to do.
        #expect(
            ChangePlan.phaseChanges(plan: self.plan, current: applying(toFine, to: afterDark), target: fine.states)
                .isEmpty
        )
    }

    @Test func enabledIsOnlyManagedWhereSomePhaseDisables() throws {
        let latencyOnly = try ScenarioPlan(Scenario.parse("proxies: [p]\ntimeline: [{duration: 1s, latency: {ms: 5}}]"))
        let phase = try #require(latencyOnly.phase(at: 0))
        // Someone disabled p by hand: the scenario does not enable it.
        let changes = ChangePlan.phaseChanges(
            plan: latencyOnly,
            current: [proxy("p", enabled: false)],
            target: phase.states
        )
        #expect(changes == [.setToxic(proxy: "p", toxic: latencyToxic("fixed_latency_up", .upstream, ms: 5))])
    }

    @Test func aToxicOfAnotherTypeOrStreamIsReplaced() throws {
        let phase = try #require(self.plan.phase(at: 0))
        let wrong = bandwidthToxic("fixed_latency_up", .downstream, rate: 5)
        let changes = ChangePlan.phaseChanges(
            plan: self.plan,
            current: [proxy("p", toxics: [wrong]), proxy("q")],
            target: phase.states
        )
        #expect(
            changes == [
                .removeToxic(proxy: "p", name: "fixed_latency_up"),
                .setToxic(proxy: "p", toxic: latencyToxic("fixed_latency_up", .upstream, ms: 500)),
            ]
        )
        // The same toxic with another spelling of its stream is the same toxic.
        var spelled = latencyToxic("fixed_latency_up", .upstream, ms: 500)
        spelled.stream = "UpStream"
        #expect(
            ChangePlan.phaseChanges(
                plan: self.plan,
                current: [proxy("p", toxics: [spelled]), proxy("q")],
                target: phase.states
            ).isEmpty
        )
    }

    @Test func restoreRemovesWhatTheScenarioAddedAndBringsBackWhatItChanged() throws {
        // The operator had their own 100 ms latency under the scenario's name, and a manual toxic.
        let theirs = latencyToxic("fixed_latency_up", .upstream, ms: 100)
        let baseline = [proxy("p", toxics: [theirs, self.manual]), proxy("q")]
        let slow = try #require(self.plan.phase(at: 0))
        let current = applying(
            ChangePlan.phaseChanges(plan: self.plan, current: baseline, target: slow.states),
            to: baseline
        )
        #expect(current[0].toxics.first == latencyToxic("fixed_latency_up", .upstream, ms: 500))
        let restore = ChangePlan.restore(plan: self.plan, baseline: baseline, applied: slow.states, current: current)
        #expect(restore.kept.isEmpty)
        #expect(restore.changes == [.setToxic(proxy: "p", toxic: theirs)])
        #expect(applying(restore.changes, to: current) == baseline)

        // Without a baseline latency, the scenario's one goes.
        let bare = [proxy("p"), proxy("q")]
        let added = applying(ChangePlan.phaseChanges(plan: self.plan, current: bare, target: slow.states), to: bare)
        let undo = ChangePlan.restore(plan: self.plan, baseline: bare, applied: slow.states, current: added)
        #expect(undo.changes == [.removeToxic(proxy: "p", name: "fixed_latency_up")])
        #expect(applying(undo.changes, to: added) == bare)
    }

    @Test func aManualToxicAddedDuringTheScenarioSurvivesTheRestore() throws {
        let baseline = [proxy("p"), proxy("q")]
        let slow = try #require(self.plan.phase(at: 0))
        var current = applying(
            ChangePlan.phaseChanges(plan: self.plan, current: baseline, target: slow.states),
            to: baseline
        )
        current[0].toxics.append(self.manual)
        let restore = ChangePlan.restore(plan: self.plan, baseline: baseline, applied: slow.states, current: current)
        #expect(restore.kept.isEmpty)
        #expect(applying(restore.changes, to: current)[0].toxics == [self.manual])
    }

    @Test func aManagedToxicChangedBySomeoneElseIsKeptAndReported() throws {
        let baseline = [proxy("p"), proxy("q")]
        let slow = try #require(self.plan.phase(at: 0))
        var current = applying(
            ChangePlan.phaseChanges(plan: self.plan, current: baseline, target: slow.states),
            to: baseline
        )
        current[0].toxics[0].attributes["latency"] = 900
        let restore = ChangePlan.restore(plan: self.plan, baseline: baseline, applied: slow.states, current: current)
        #expect(restore.changes.isEmpty)
        #expect(
            restore.kept == [
                KeptChange(
                    proxy: "p",
                    item: "toxic fixed_latency_up",
                    detail: "changed by someone else during the scenario; left as it is"
                )
            ]
        )

        // Removed by someone else: nothing to remove, and the baseline had none either, so nothing to report.
        let removed = ChangePlan.restore(plan: self.plan, baseline: baseline, applied: slow.states, current: baseline)
        #expect(removed.changes.isEmpty && removed.kept.isEmpty)
        // Removed by someone else while the baseline had one: it is not brought back behind their back.
        let theirs = latencyToxic("fixed_latency_up", .upstream, ms: 100)
        let withBaseline = ChangePlan.restore(
            plan: self.plan,
            baseline: [proxy("p", toxics: [theirs]), proxy("q")],
            applied: slow.states,
            current: baseline
        )
        #expect(withBaseline.changes.isEmpty)
        #expect(
            withBaseline.kept == [
                KeptChange(
                    proxy: "p",
                    item: "toxic fixed_latency_up",
                    detail: "removed by someone else during the scenario; left as it is"
                )
            ]
        )
        // Added by someone else during a phase that had none.
        let dark = try #require(self.plan.phase(at: 1))
        let added = ChangePlan.restore(
            plan: self.plan,
            baseline: baseline,
            applied: dark.states,
            current: [
                proxy("p", enabled: false, toxics: [latencyToxic("fixed_latency_up", .upstream, ms: 7)]),
                proxy("q", enabled: false),
            ]
        )
        #expect(
            added.kept == [
                KeptChange(
                    proxy: "p",
                    item: "toxic fixed_latency_up",
                    detail: "added by someone else during the scenario; left as it is"
                )
            ]
        )
        #expect(added.changes == [.setEnabled(proxy: "p", enabled: true), .setEnabled(proxy: "q", enabled: true)])
    }

    @Test func anOutageIsRestoredToEnabled() throws {
        let baseline = [proxy("p", toxics: [self.manual]), proxy("q")]
        let dark = try #require(self.plan.phase(at: 1))
        let current = applying(
            ChangePlan.phaseChanges(plan: self.plan, current: baseline, target: dark.states),
            to: baseline
        )
        #expect(current.map(\.enabled) == [false, false])
        let restore = ChangePlan.restore(plan: self.plan, baseline: baseline, applied: dark.states, current: current)
        #expect(restore.changes == [.setEnabled(proxy: "p", enabled: true), .setEnabled(proxy: "q", enabled: true)])
        #expect(applying(restore.changes, to: current) == baseline)
    }

    @Test func aProxyDisabledBeforeTheScenarioStaysDisabled() throws {
        let baseline = [proxy("p"), proxy("q", enabled: false)]
        // Ended during the outage: q is as it was.
        let dark = try #require(self.plan.phase(at: 1))
        let duringOutage = applying(
            ChangePlan.phaseChanges(plan: self.plan, current: baseline, target: dark.states),
            to: baseline
        )
        let fromOutage = ChangePlan.restore(
            plan: self.plan,
            baseline: baseline,
            applied: dark.states,
            current: duringOutage
        )
        #expect(fromOutage.changes == [.setEnabled(proxy: "p", enabled: true)])
        #expect(applying(fromOutage.changes, to: duringOutage) == baseline)
        // Ended in the healthy phase, which enabled q: it is disabled again.
        let fine = try #require(self.plan.phase(at: 2))
        let healthy = applying(
            ChangePlan.phaseChanges(plan: self.plan, current: duringOutage, target: fine.states),
            to: duringOutage
        )
        #expect(healthy.map(\.enabled) == [true, true])
        let fromHealthy = ChangePlan.restore(
            plan: self.plan,
            baseline: baseline,
            applied: fine.states,
            current: healthy
        )
        #expect(fromHealthy.changes == [.setEnabled(proxy: "q", enabled: false)])
        #expect(fromHealthy.kept.isEmpty)
        #expect(applying(fromHealthy.changes, to: healthy) == baseline)
    }

    @Test func enabledChangedBySomeoneElseIsKept() throws {
        let baseline = [proxy("p"), proxy("q")]
        let fine = try #require(self.plan.phase(at: 2))
        let restore = ChangePlan.restore(
            plan: self.plan,
            baseline: baseline,
            applied: fine.states,
            current: [proxy("p", enabled: false), proxy("q")]
        )
        #expect(restore.changes.isEmpty)
        #expect(
            restore.kept == [
                KeptChange(
                    proxy: "p",
                    item: "enabled",
                    detail: "changed by someone else during the scenario; left as it is"
                )
            ]
        )
    }

    @Test func aDeletedProxyIsReported() throws {
        let baseline = [proxy("p"), proxy("q")]
        let dark = try #require(self.plan.phase(at: 1))
        let restore = ChangePlan.restore(
            plan: self.plan,
            baseline: baseline,
            applied: dark.states,
            current: [proxy("p", enabled: false)]
        )
        #expect(restore.changes == [.setEnabled(proxy: "p", enabled: true)])
        #expect(restore.kept == [KeptChange(proxy: "q", item: "proxy", detail: "deleted during the scenario")])
        #expect(restore.kept.first?.description == "q: proxy: deleted during the scenario")
    }

    @Test func describesChanges() {
        #expect(
            ProxyChange.setToxic(proxy: "p", toxic: latencyToxic("fixed_latency_up", .upstream, ms: 500, jitter: 50))
                .description
                == "p: set toxic fixed_latency_up (latency upstream, toxicity 1, latency=500 jitter=50)"
        )
        #expect(
            ProxyChange.setToxic(
                proxy: "p",
                toxic: Toxic(name: "n", type: .noop, stream: "downstream", direction: .downstream, toxicity: 0.5)
            ).description
                == "p: set toxic n (noop downstream, toxicity 0.5)"
        )
        #expect(ProxyChange.removeToxic(proxy: "p", name: "x").description == "p: remove toxic x")
        #expect(ProxyChange.setEnabled(proxy: "p", enabled: false).description == "p: disable")
        #expect(ProxyChange.setEnabled(proxy: "p", enabled: true).description == "p: enable")
    }
}

/// A healthy phase leaves a managed toxic as the operator had it before the scenario: updated back in place
/// (never removed and re-created at the end of the chain), and the restore then has nothing to do.
@Test func aPhaseThatDoesNotSetAManagedToxicPutsTheOperatorsOwnBackInPlace() throws {
    let plan = try ScenarioPlan(
        Scenario.parse(
            """
            proxies: [p]
            lease: none
            timeline:
              - {name: down, duration: 1s, timeout: {ms: 0, direction: up}}
              - {name: up, duration: 1s}
            """
        )
    )
    var theirs = Toxic(name: "timeout_up", type: .timeout, stream: "upstream", direction: .upstream)
    theirs.attributes["timeout"] = 12345
    let noop = Toxic(name: "their_noop", type: .noop, stream: "upstream", direction: .upstream)
    let baseline = [
        Proxy(name: "p", listen: "127.0.0.1:1", upstream: "127.0.0.1:2", enabled: true, toxics: [theirs, noop])
    ]

    let down = try #require(plan.phase(at: 0))
    let downState = ChangePlan.phaseState(plan: plan, baseline: baseline, target: down.states)
    let downChanges = ChangePlan.phaseChanges(plan: plan, current: baseline, target: downState)
    var ours = theirs
    ours.attributes["timeout"] = 0
    #expect(downChanges == [.setToxic(proxy: "p", toxic: ours)])

    let duringDown = [
        Proxy(name: "p", listen: "127.0.0.1:1", upstream: "127.0.0.1:2", enabled: true, toxics: [ours, noop])
    ]
    let up = try #require(plan.phase(at: 1))
    let upState = ChangePlan.phaseState(plan: plan, baseline: baseline, target: up.states)
    #expect(upState["p"]?.toxics == [theirs])
    let upChanges = ChangePlan.phaseChanges(plan: plan, current: duringDown, target: upState)
    // A set of the same name, type and stream: an update in place, not a removal.
    #expect(upChanges == [.setToxic(proxy: "p", toxic: theirs)])

    let restore = ChangePlan.restore(plan: plan, baseline: baseline, applied: upState, current: baseline)
    #expect(restore.changes.isEmpty)
    #expect(restore.kept.isEmpty)
}

@Test func aPhaseStateWithoutABaselineToxicLeavesItOut() throws {
    let plan = try ScenarioPlan(
        Scenario.parse(
            """
            proxies: [p]
            lease: none
            timeline:
              - {name: slow, duration: 1s, latency: {ms: 100}}
              - {name: fine, duration: 1s}
            """
        )
    )
    let baseline = [Proxy(name: "p", listen: "127.0.0.1:1", upstream: "127.0.0.1:2", enabled: true)]
    let fine = try #require(plan.phase(at: 1))
    let state = ChangePlan.phaseState(plan: plan, baseline: baseline, target: fine.states)
    #expect(state["p"]?.toxics == [])
}
