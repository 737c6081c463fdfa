import Testing
import ToxiproxyModel

@Suite struct ToxicRequestTests {
    private func decode(_ text: String) throws -> ToxicRequest {
        try ToxicRequest.decode(json(text))
    }

    private func decodeError(_ text: String) throws -> String? {
        let value = try json(text)
        return thrownError { () throws(APIError) in _ = try ToxicRequest.decode(value) }?.message
    }

    @Test func decodesAllFields() throws {
        let request = try decode(
            #"{"name":"n","type":"latency","stream":"upstream","toxicity":0.5,"attributes":{"latency":1}}"#
        )
        #expect(
            request
                == ToxicRequest(
                    name: "n",
                    type: "latency",
                    stream: "upstream",
                    toxicity: 0.5,
                    attributes: object(("latency", .number("1")))
                )
        )
    }

    @Test func keysAreCaseInsensitive() throws {
        let request = try decode(
            #"{"NAME":"n","Type":"bandwidth","STREAM":"UpStream","ToXiCiTy":1e-1,"Attributes":{"RATE":100}}"#
        )
        #expect(request.name == "n")
        #expect(request.type == "bandwidth")
        #expect(request.stream == "UpStream")
        #expect(request.toxicity == 0.1)
        #expect(request.attributes == object(("RATE", .number("100"))))
    }

    @Test func theLastMemberWinsWhateverItsCase() throws {
        #expect(try decode(#"{"name":"a","NAME":"b"}"#).name == "b")
        #expect(try decode(#"{"NAME":"b","name":"a"}"#).name == "a")
    }

    @Test func nullLeavesFieldsAbsent() throws {
        let request = try decode(#"{"name":null,"type":null,"stream":null,"toxicity":null,"attributes":null}"#)
        #expect(request == ToxicRequest())
        #expect(try decode(#"{"name":"a","name":null}"#).name == "a")
        #expect(try ToxicRequest.decode(.null) == ToxicRequest())
    }

    @Test func unknownKeysAreIgnored() throws {
        #expect(try decode(#"{"type":"noop","direction":"up","extra":[1,{"x":null}]}"#) == ToxicRequest(type: "noop"))
    }

    @Test(arguments: [
        ("1e-1", Float(0.1)), ("2", 2), ("-1", -1), ("0", 0), ("1e-50", 0), ("3.4028235e38", .greatestFiniteMagnitude),
    ])
    func toxicityAcceptsAnyNumberThatFitsFloat32(literal: String, value: Float) throws {
        #expect(try decode(#"{"toxicity":\#(literal)}"#).toxicity == value)
    }

    @Test func toxicityOutOfFloat32RangeIsRejected() throws {
        #expect(
            try decodeError(#"{"toxicity":1e50}"#)
                == "bad request body: json: cannot unmarshal number 1e50 into Go struct field "
                + "ToxicWrapper.toxicity of type float32"
        )
        #expect(
            try decodeError(#"{"toxicity":"0.5"}"#)
                == "bad request body: json: cannot unmarshal string into Go struct field "
                + "ToxicWrapper.toxicity of type float32"
        )
    }

    @Test(arguments: [
        (#"{"name":1}"#, "number into Go struct field ToxicWrapper.name of type string"),
        (#"{"type":true}"#, "bool into Go struct field ToxicWrapper.type of type string"),
        (#"{"stream":["up"]}"#, "array into Go struct field ToxicWrapper.stream of type string"),
        (#"{"attributes":5}"#, "number into Go struct field ToxicWrapper.attributes of type toxics.NoopToxic"),
        (#"{"attributes":"x"}"#, "string into Go struct field ToxicWrapper.attributes of type toxics.NoopToxic"),
        ("[]", "array into Go value of type toxics.ToxicWrapper"),
        (#""latency""#, "string into Go value of type toxics.ToxicWrapper"),
    ])
    func wrongTypesAreRejectedWithGoMessages(text: String, detail: String) throws {
        #expect(try decodeError(text) == "bad request body: json: cannot unmarshal " + detail)
    }

    @Test func theFirstTypeErrorIsReported() throws {
        #expect(try decodeError(#"{"name":1,"type":2}"#)?.contains("ToxicWrapper.name") == true)
    }

    @Test func duplicateAttributesMergeLikeGo() throws {
        let request = try decode(#"{"attributes":{"latency":1},"ATTRIBUTES":{"jitter":2},"attributes":{}}"#)
        #expect(request.attributes == object(("latency", .number("1")), ("jitter", .number("2"))))
    }

    @Test func attributesAfterANullCannotBeDecoded() throws {
        #expect(
            try decodeError(#"{"attributes":null,"attributes":{}}"#)
                == "bad request body: json: cannot unmarshal object into Go struct field "
                + "ToxicWrapper.attributes of type toxics.Toxic"
        )
    }
}
