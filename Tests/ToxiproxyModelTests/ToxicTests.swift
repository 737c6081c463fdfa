import Testing
import ToxiproxyModel

@Suite struct ToxicTests {
    private func make(_ text: String) throws -> Toxic {
        try Toxic.make(from: ToxicRequest.decode(json(text)))
    }

    private func makeError(_ text: String) throws -> APIError? {
        let request = try ToxicRequest.decode(json(text))
        return thrownError { () throws(APIError) in _ = try Toxic.make(from: request) }
    }

    private func updated(_ toxic: Toxic, with text: String) throws -> (Toxic, APIError?) {
        var toxic = toxic
        let value = try json(text)
        let error = thrownError { () throws(APIError) in try toxic.applyUpdate(value) }
        return (toxic, error)
    }

    private var latency: Toxic {
        var attributes = ToxicAttributes(type: .latency)
        attributes["latency"] = 100
        attributes["jitter"] = 10
        return Toxic(
            name: "latency_downstream",
            type: .latency,
            stream: "downstream",
            direction: .downstream,
            toxicity: 1,
            attributes: attributes
        )
    }

    // MARK: - JSON

    @Test func jsonMatchesTheReferenceByteForByte() throws {
        let toxic = try make(#"{"type":"latency","attributes":{"latency":100}}"#)
        #expect(
            toxic.jsonString
                == #"{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","type":"latency","#
                + #""stream":"downstream","toxicity":1}"#
        )
    }

    @Test func noopHasAnEmptyAttributesObject() throws {
        #expect(
            try make(#"{"type":"noop","stream":"upstream"}"#).jsonString
                == #"{"attributes":{},"name":"noop_upstream","type":"noop","stream":"upstream","toxicity":1}"#
        )
    }

    @Test(arguments: [("0.2", "0.2"), ("0.5", "0.5"), ("1.0", "1"), ("1e-1", "0.1"), ("2", "2"), ("-0.25", "-0.25")])
    func toxicityIsPrintedAsShortestFloat32(literal: String, printed: String) throws {
        let toxic = try make(#"{"type":"timeout","toxicity":\#(literal)}"#)
        #expect(toxic.jsonString.hasSuffix(#","toxicity":\#(printed)}"#))
    }

    @Test func streamIsEchoedVerbatimAndStringsAreEscaped() throws {
        let toxic = try make(#"{"type":"timeout","stream":"UpStream","name":"<a&b>"}"#)
        #expect(
            toxic.jsonString
                == #"{"attributes":{"timeout":0},"name":"\u003ca\u0026b\u003e","type":"timeout","#
                + #""stream":"UpStream","toxicity":1}"#
        )
    }

    @Test func writeJSONComposesWithOtherValues() {
        var writer = JSONWriter()
        writer.beginArray()
        latency.writeJSON(to: &writer)
        latency.writeJSON(to: &writer)
        writer.endArray()
        let one = latency.jsonString
        #expect(writer.output == "[\(one),\(one)]")
    }

    // MARK: - Create

    @Test func defaultsAreAppliedOnCreate() throws {
        #expect(
            try make(#"{"type":"latency"}"#)
                == Toxic(name: "latency_downstream", type: .latency, stream: "downstream", direction: .downstream)
        )
        #expect(try make(#"{"type":"latency","name":""}"#).name == "latency_downstream")
        #expect(try make(#"{"type":"latency","stream":null,"toxicity":null}"#).toxicity == 1)
    }

    @Test func theDefaultNameUsesTheStreamAsSupplied() throws {
        let toxic = try make(#"{"type":"latency","stream":"UpStream"}"#)
        #expect(toxic.name == "latency_UpStream")
        #expect(toxic.stream == "UpStream")
        #expect(toxic.direction == .upstream)
    }

    @Test func toxicityIsNotRangeChecked() throws {
        #expect(try make(#"{"type":"noop","toxicity":2}"#).toxicity == 2)
        #expect(try make(#"{"type":"noop","toxicity":-1}"#).toxicity == -1)
    }

    @Test(arguments: [#"{"type":"latency","stream":""}"#, #"{"type":"latency","stream":"sideways"}"#])
    func anInvalidStreamIsRejected(text: String) throws {
        #expect(try makeError(text) == .invalidStream)
    }

    @Test(arguments: [#"{}"#, #"{"type":"Latency"}"#, #"{"type":"packet_loss"}"#, #"{"type":""}"#])
    func anUnknownOrMissingTypeIsRejected(text: String) throws {
        #expect(try makeError(text) == .invalidToxicType)
    }

    @Test func checksRunInTheReferenceOrder() throws {
        // stream before type, type before attributes
        #expect(try makeError(#"{"type":"nope","stream":"nope"}"#) == .invalidStream)
        #expect(try makeError(#"{"type":"nope","attributes":{"latency":1.5}}"#) == .invalidToxicType)
        #expect(
            try makeError(#"{"type":"latency","attributes":{"latency":1.5}}"#)?.message
                == "bad request body: json: cannot unmarshal number 1.5 into Go struct field "
                + "LatencyToxic.attributes.latency of type int64"
        )
    }

    @Test func headerAndAttributesCanBeResolvedSeparately() throws {
        let request = try ToxicRequest.decode(
            json(#"{"type":"timeout","stream":"UPSTREAM","attributes":{"Timeout":5}}"#)
        )
        let header = try Toxic.resolveHeader(from: request)
        #expect(header.name == "timeout_UPSTREAM")
        #expect(header.type == .timeout)
        #expect(header.stream == "UPSTREAM")
        #expect(header.direction == .upstream)
        let toxic = try Toxic.make(header: header, request: request)
        #expect(toxic.attributes["timeout"] == 5)
        #expect(toxic == (try Toxic.make(from: request)))
    }

    @Test func aNameStaysAsGiven() throws {
        #expect(try make(#"{"type":"noop","name":"my toxic"}"#).name == "my toxic")
    }

    // MARK: - Update

    @Test func updateMergesAttributesKeyByKey() throws {
        let (toxic, error) = try updated(latency, with: #"{"attributes":{"LATENCY":200}}"#)
        #expect(error == nil)
        #expect(toxic.attributes["latency"] == 200)
        #expect(toxic.attributes["jitter"] == 10)
    }

    @Test func updateSetsToxicity() throws {
        let (toxic, error) = try updated(latency, with: #"{"Toxicity":0.5}"#)
        #expect(error == nil)
        #expect(toxic.toxicity == 0.5)
    }

    @Test(arguments: [
        "{}", "null", #"{"toxicity":null,"attributes":null}"#,
        #"{"name":"x","type":"timeout","stream":"upstream","unknown":1}"#,
    ])
    func updatesThatChangeNothing(text: String) throws {
        let (toxic, error) = try updated(latency, with: text)
        #expect(error == nil)
        #expect(toxic == latency)
    }

    @Test func updateRejectsANonObject() throws {
        let (toxic, error) = try updated(latency, with: "[1]")
        #expect(
            error?.message == "bad request body: json: cannot unmarshal array into Go value of type toxics.ToxicWrapper"
        )
        #expect(toxic == latency)
    }

    @Test func updateRejectsABadToxicity() throws {
        let (toxic, error) = try updated(latency, with: #"{"toxicity":1e40}"#)
        #expect(
            error?.message
                == "bad request body: json: cannot unmarshal number 1e40 into Go struct field .toxicity of type float32"
        )
        #expect(toxic == latency)
    }

    @Test func aFailedUpdateKeepsGoPartialAttributeWritesButNotToxicity() throws {
        let (toxic, error) = try updated(latency, with: #"{"attributes":{"jitter":5,"latency":"x"},"toxicity":0.5}"#)
        #expect(
            error?.message
                == "bad request body: json: cannot unmarshal string into Go struct field "
                + "LatencyToxic.attributes.latency of type int64"
        )
        #expect(toxic.attributes["jitter"] == 5)
        #expect(toxic.attributes["latency"] == 100)
        #expect(toxic.toxicity == 1)
    }

    @Test func attributesAfterAFailedToxicityAreStillWrittenLikeGo() throws {
        let (toxic, error) = try updated(latency, with: #"{"toxicity":"x","attributes":{"latency":5}}"#)
        #expect(error?.code == .badRequestBody)
        #expect(toxic.attributes["latency"] == 5)
        #expect(toxic.toxicity == 1)
    }

    @Test func attributesAfterANullAreIgnoredLikeGo() throws {
        let (toxic, error) = try updated(latency, with: #"{"attributes":null,"attributes":{"latency":"x"}}"#)
        #expect(error == nil)
        #expect(toxic == latency)
    }

    @Test func updateRejectsANonObjectAttributes() throws {
        let (_, error) = try updated(latency, with: #"{"attributes":7}"#)
        #expect(
            error?.message
                == "bad request body: json: cannot unmarshal number into Go struct field .attributes of type "
                + "toxics.LatencyToxic"
        )
    }
}
