import Testing
import ToxiproxyModel

@Suite struct ToxicAttributesTests {
    private func merged(_ text: String, type: ToxicType = .latency) throws -> ToxicAttributes {
        var attributes = ToxicAttributes(type: type)
        try attributes.merge(json(text), type: type)
        return attributes
    }

    private func mergeError(_ text: String, type: ToxicType = .latency) throws -> String? {
        let value = try json(text)
        var attributes = ToxicAttributes(type: type)
        return thrownError { () throws(APIError) in try attributes.merge(value, type: type) }?.message
    }

    private func pairs(_ attributes: ToxicAttributes) -> [String] {
        attributes.values.map { "\($0.name)=\($0.value)" }
    }

    @Test func everyAttributeStartsAtZeroInTypeOrder() {
        #expect(pairs(ToxicAttributes(type: .latency)) == ["latency=0", "jitter=0"])
        #expect(pairs(ToxicAttributes(type: .slicer)) == ["average_size=0", "size_variation=0", "delay=0"])
        #expect(ToxicAttributes(type: .noop).values.isEmpty)
    }

    @Test func subscriptReadsAndWritesKnownNamesOnly() {
        var attributes = ToxicAttributes(type: .latency)
        attributes["jitter"] = 7
        attributes["bogus"] = 9
        #expect(attributes["jitter"] == 7)
        #expect(attributes["bogus"] == 0)
        #expect(pairs(attributes) == ["latency=0", "jitter=7"])
    }

    @Test func equalityComparesNamesAndValues() {
        var a = ToxicAttributes(type: .latency)
        let b = ToxicAttributes(type: .latency)
        #expect(a == b)
        a["latency"] = 1
        #expect(a != b)
        #expect(ToxicAttributes(type: .timeout) != ToxicAttributes(type: .latency))
    }

    @Test func mergeSetsOnlyTheGivenAttributes() throws {
        #expect(pairs(try merged(#"{"latency":100}"#)) == ["latency=100", "jitter=0"])
        #expect(
            pairs(try merged(#"{"jitter":-5,"latency":9223372036854775807}"#)) == [
                "latency=9223372036854775807", "jitter=-5",
            ]
        )
        #expect(
            pairs(try merged(#"{"latency":-9223372036854775808,"jitter":-0}"#)) == [
                "latency=-9223372036854775808", "jitter=0",
            ]
        )
    }

    @Test func keysMatchCaseInsensitively() throws {
        #expect(pairs(try merged(#"{"LATENCY":100,"Jitter":5}"#)) == ["latency=100", "jitter=5"])
        #expect(pairs(try merged(#"{"RATE":100}"#, type: .bandwidth)) == ["rate=100"])
        #expect(
            pairs(try merged(#"{"AVERAGE_SIZE":10,"Size_Variation":4}"#, type: .slicer)) == [
                "average_size=10", "size_variation=4", "delay=0",
            ]
        )
    }

    @Test func laterMembersOverwriteEarlierOnesWhateverTheirCase() throws {
        #expect(try merged(#"{"latency":1,"LATENCY":2}"#)["latency"] == 2)
        #expect(try merged(#"{"LATENCY":2,"latency":1}"#)["latency"] == 1)
    }

    @Test func nullValuesAndUnknownKeysChangeNothing() throws {
        var attributes = ToxicAttributes(type: .latency)
        attributes["latency"] = 7
        try attributes.merge(json(#"{"latency":null,"foo":"bar","jitter":3}"#), type: .latency)
        #expect(pairs(attributes) == ["latency=7", "jitter=3"])
        try attributes.merge(.null, type: .latency)
        #expect(pairs(attributes) == ["latency=7", "jitter=3"])
    }

    @Test(arguments: ["1.0", "1.5", "1e3", "1E3", "-0.0", "9223372036854775808", "-9223372036854775809"])
    func nonIntegerOrOutOfRangeNumbersAreRejected(literal: String) throws {
        #expect(
            try mergeError(#"{"latency":\#(literal)}"#)
                == "bad request body: json: cannot unmarshal number \(literal) into Go struct field "
                + "LatencyToxic.attributes.latency of type int64"
        )
    }

    @Test(arguments: [(#""100""#, "string"), ("true", "bool"), ("[1]", "array"), (#"{"a":1}"#, "object")])
    func otherKindsAreRejected(literal: String, kind: String) throws {
        #expect(
            try mergeError(#"{"jitter":\#(literal)}"#)
                == "bad request body: json: cannot unmarshal \(kind) into Go struct field "
                + "LatencyToxic.attributes.jitter of type int64"
        )
    }

    @Test func slicerAttributesAreGoInts() throws {
        #expect(
            try mergeError(#"{"delay":1.5}"#, type: .slicer)
                == "bad request body: json: cannot unmarshal number 1.5 into Go struct field "
                + "SlicerToxic.attributes.delay of type int"
        )
    }

    @Test func aNonObjectIsRejected() throws {
        #expect(
            try mergeError("[1]")
                == "bad request body: json: cannot unmarshal array into Go value of type toxics.LatencyToxic"
        )
        #expect(
            try mergeError("5", type: .timeout)
                == "bad request body: json: cannot unmarshal number into Go value of type toxics.TimeoutToxic"
        )
    }

    @Test func validMembersAreStillAppliedWhenAnotherFailsLikeGo() throws {
        var attributes = ToxicAttributes(type: .latency)
        let before = try json(#"{"jitter":5,"latency":"x"}"#)
        let error = thrownError { () throws(APIError) in try attributes.merge(before, type: .latency) }
        #expect(error?.code == .badRequestBody)
        #expect(pairs(attributes) == ["latency=0", "jitter=5"])

        attributes = ToxicAttributes(type: .latency)
        let after = try json(#"{"latency":"x","jitter":6}"#)
        #expect(thrownError { () throws(APIError) in try attributes.merge(after, type: .latency) } != nil)
        #expect(pairs(attributes) == ["latency=0", "jitter=6"])
    }

    @Test func theFirstBadMemberIsReported() throws {
        #expect(
            try mergeError(#"{"latency":"x","jitter":1.5}"#)
                == "bad request body: json: cannot unmarshal string into Go struct field "
                + "LatencyToxic.attributes.latency of type int64"
        )
    }
}
