import Testing
import ToxiproxyModel

/// Reading what any Toxiproxy 2.x server answers, leniently.
struct ResponseDecodingTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parseFirstValue(Array(text.utf8))
    }

    @Test
    func aReferenceProxyObjectDecodes() throws {
        let proxy = try Proxy(
            response: try self.parse(
                #"{"name":"p1","listen":"127.0.0.1:43741","upstream":"localhost:19999","enabled":true,"Logger":{},"toxics":[{"attributes":{"rate":100},"name":"bandwidth_downstream","type":"bandwidth","stream":"downstream","toxicity":0.2}]}"#
            )
        )
        #expect(proxy.name == "p1" && proxy.listen == "127.0.0.1:43741" && proxy.enabled)
        #expect(proxy.toxics.count == 1)
        #expect(proxy.toxics[0].type == .bandwidth && proxy.toxics[0].attributes["rate"] == 100)
        #expect(proxy.toxics[0].toxicity == 0.2)
    }

    @Test
    func nullToxicsAndUnknownKeysAreTolerated() throws {
        let proxy = try Proxy(
            response: try self.parse(
                #"{"name":"p","listen":"","upstream":"u:1","enabled":false,"toxics":null,"new":1}"#
            )
        )
        #expect(proxy.toxics.isEmpty && !proxy.enabled)
    }

    @Test
    func anUnknownToxicTypeKeepsItsAttributesInOrder() throws {
        let toxic = try Toxic(
            response: try self.parse(
                #"{"attributes":{"loss_rate":0.1,"correlation":3},"name":"pl","type":"packet_loss","stream":"UpStream","toxicity":1}"#
            )
        )
        #expect(toxic.type.name == "packet_loss" && toxic.direction == .upstream && toxic.stream == "UpStream")
        #expect(toxic.attributes.values.map(\.name) == ["loss_rate", "correlation"])
        #expect(toxic.attributes["loss_rate"] == 0, "fractions truncate toward zero")
        #expect(toxic.attributes["correlation"] == 3)
    }

    @Test(arguments: [
        #"[]"#, #"{"name":"p"}"#, #"{"name":"p","listen":"l","upstream":"u","enabled":"yes"}"#,
        #"{"name":"p","listen":"l","upstream":"u","enabled":true,"toxics":{}}"#,
    ])
    func malformedProxiesAreRejectedWithAReason(text: String) throws {
        #expect(throws: ResponseDecodingError.self) { try Proxy(response: try self.parse(text)) }
    }

    @Test
    func aToxicWithAnUnknownStreamIsRejected() throws {
        let value = try self.parse(#"{"attributes":{},"name":"n","type":"noop","stream":"sideways","toxicity":1}"#)
        #expect(throws: ResponseDecodingError("toxic n: unknown stream \"sideways\"")) { try Toxic(response: value) }
    }
}
