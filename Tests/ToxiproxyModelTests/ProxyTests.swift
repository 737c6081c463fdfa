import Testing
import ToxiproxyModel

@Suite struct ProxyTests {
    @Test func jsonMatchesTheReferenceByteForByte() {
        let proxy = Proxy(name: "p1", listen: "127.0.0.1:43741", upstream: "localhost:19999", enabled: true)
        #expect(
            proxy.jsonString
                == #"{"name":"p1","listen":"127.0.0.1:43741","upstream":"localhost:19999","enabled":true,"#
                + #""Logger":{},"toxics":[]}"#
        )
    }

    @Test func toxicsAreEmbeddedInOrder() {
        var latency = ToxicAttributes(type: .latency)
        latency["latency"] = 100
        let proxy = Proxy(
            name: "redis",
            listen: "[::]:26379",
            upstream: "localhost:6379",
            enabled: false,
            toxics: [
                Toxic(name: "t_up", type: .timeout, stream: "upstream", direction: .upstream, toxicity: 0.5),
                Toxic(
                    name: "latency_downstream",
                    type: .latency,
                    stream: "downstream",
                    direction: .downstream,
                    attributes: latency
                ),
            ]
        )
        #expect(
            proxy.jsonString
                == #"{"name":"redis","listen":"[::]:26379","upstream":"localhost:6379","enabled":false,"Logger":{},"#
                + #""toxics":[{"attributes":{"timeout":0},"name":"t_up","type":"timeout","stream":"upstream","#
                + #""toxicity":0.5},{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","#
                + #""type":"latency","stream":"downstream","toxicity":1}]}"#
        )
    }

    @Test func stringsAreEscapedLikeGo() {
        let proxy = Proxy(name: "a\"<b>", listen: "", upstream: "h\\1", enabled: true)
        #expect(proxy.jsonString.hasPrefix(#"{"name":"a\"\u003cb\u003e","listen":"","upstream":"h\\1","#))
    }

    @Test func writeJSONComposesIntoAMap() {
        let a = Proxy(name: "a", listen: "l", upstream: "u", enabled: true)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key(a.name)
        a.writeJSON(to: &writer)
        writer.key("b")
        a.writeJSON(to: &writer)
        writer.endObject()
        #expect(writer.output == "{\"a\":\(a.jsonString),\"b\":\(a.jsonString)}")
    }
}
