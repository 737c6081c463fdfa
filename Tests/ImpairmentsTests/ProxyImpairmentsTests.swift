import Impairments
import Testing
import ToxiproxyClient
import ToxiproxyModel

/// The impairment plans, computed from a proxy's state: pure, no server.
struct ProxyImpairmentsTests {
    let impairments = ProxyImpairments(proxy: "api")

    func proxy(enabled: Bool = true, _ toxics: [Toxic] = []) -> Proxy {
        Proxy(name: "api", listen: "0.0.0.0:10443", upstream: "api.example:443", enabled: enabled, toxics: toxics)
    }

    func toxic(_ name: String, _ type: ToxicType, _ stream: StreamDirection, _ values: [(String, Int64)]) -> Toxic {
        var attributes = ToxicAttributes(type: type)
        for (key, value) in values { attributes[key] = value }
        return Toxic(name: name, type: type, stream: stream.rawValue, direction: stream, attributes: attributes)
    }

    @Test
    func latencyIsCreatedThenLeftAloneThenUpdatedInPlace() {
        let created = self.impairments.enableLatency(
            milliseconds: 100,
            jitter: 5,
            direction: .up,
            current: self.proxy()
        )
        #expect(
            created.map(\.description) == [
                #"POST /proxies/api/toxics {"name":"fixed_latency_up","type":"latency","stream":"upstream","toxicity":1,"attributes":{"latency":100,"jitter":5}}"#
            ]
        )
        let existing = self.proxy([
            self.toxic("fixed_latency_up", .latency, .upstream, [("latency", 100), ("jitter", 5)])
        ])
        #expect(self.impairments.enableLatency(milliseconds: 100, jitter: 5, direction: .up, current: existing).isEmpty)
        #expect(
            self.impairments.enableLatency(milliseconds: 300, jitter: 5, direction: .up, current: existing).map(
                \.description
            )
                == [#"PATCH /proxies/api/toxics/fixed_latency_up {"attributes":{"latency":300,"jitter":5}}"#]
        )
    }

    @Test
    func aToxicOfOurNameOnTheWrongStreamIsRecreated() {
        let wrong = self.proxy([self.toxic("fixed_latency_up", .latency, .downstream, [("latency", 100)])])
        let calls = self.impairments.enableLatency(milliseconds: 100, jitter: 0, direction: .up, current: wrong)
        #expect(calls.count == 2)
        #expect(calls.first == .removeToxic(proxy: "api", name: "fixed_latency_up"))
    }

    @Test
    func bothDirectionsMeanTwoToxicsAndDisableRemovesOnlyWhatExists() {
        let both = self.impairments.enableLatency(milliseconds: 10, jitter: 0, direction: .both, current: self.proxy())
        #expect(both.count == 2)
        let onlyDown = self.proxy([self.toxic("fixed_latency_down", .latency, .downstream, [("latency", 10)])])
        #expect(
            self.impairments.disableLatency(current: onlyDown) == [
                .removeToxic(proxy: "api", name: "fixed_latency_down")
            ]
        )
        #expect(self.impairments.disableLatency(current: self.proxy()).isEmpty)
    }

    @Test
    func timeoutRemovesTheOtherDirectionAndNeverTouchesAnOutage() {
        let current = self.proxy(
            enabled: false,
            [self.toxic("timeout_down", .timeout, .downstream, [("timeout", 1000)])]
        )
        let calls = self.impairments.enableTimeout(milliseconds: 0, direction: .up, current: current)
        #expect(
            calls.map(\.description) == [
                "DELETE /proxies/api/toxics/timeout_down",
                #"POST /proxies/api/toxics {"name":"timeout_up","type":"timeout","stream":"upstream","toxicity":1,"attributes":{"timeout":0}}"#,
            ]
        )
        #expect(self.impairments.disableTimeout(current: current) == [.removeToxic(proxy: "api", name: "timeout_down")])
    }

    @Test
    func outageIsTheEnabledFlagOnly() {
        #expect(
            self.impairments.setOutage(true, current: self.proxy()) == [.setProxyEnabled(proxy: "api", enabled: false)]
        )
        #expect(self.impairments.setOutage(true, current: self.proxy(enabled: false)).isEmpty)
        #expect(
            self.impairments.setOutage(false, current: self.proxy(enabled: false)) == [
                .setProxyEnabled(proxy: "api", enabled: true)
            ]
        )
    }

    @Test
    func resetRemovesOnlyOurToxicsAndEndsAnOutage() {
        let current = self.proxy(
            enabled: false,
            [
                self.toxic("fixed_latency_up", .latency, .upstream, [("latency", 1)]),
                self.toxic("someone_elses", .latency, .upstream, [("latency", 1)]),
                self.toxic("timeout_down", .timeout, .downstream, [("timeout", 1)]),
            ]
        )
        #expect(
            self.impairments.reset(current: current).map(\.description) == [
                "DELETE /proxies/api/toxics/fixed_latency_up",
                "DELETE /proxies/api/toxics/timeout_down",
                #"POST /proxies/api {"enabled":true}"#,
            ]
        )
    }

    @Test
    func restoreBringsBackToxicsAndTheEnabledFlagOfASnapshot() {
        let snapshot = self.proxy(enabled: true, [self.toxic("timeout_up", .timeout, .upstream, [("timeout", 500)])])
        let current = self.proxy(
            enabled: false,
            [
                self.toxic("timeout_up", .timeout, .upstream, [("timeout", 30000)]),
                self.toxic("timeout_down", .timeout, .downstream, [("timeout", 30000)]),
            ]
        )
        #expect(
            self.impairments.restore(snapshot, names: ["timeout_up", "timeout_down"], current: current).map(
                \.description
            ) == [
                #"PATCH /proxies/api/toxics/timeout_up {"attributes":{"timeout":500}}"#,
                "DELETE /proxies/api/toxics/timeout_down",
                #"POST /proxies/api {"enabled":true}"#,
            ]
        )
        #expect(self.impairments.restore(snapshot, names: ["timeout_up", "timeout_down"], current: snapshot).isEmpty)
    }
}
