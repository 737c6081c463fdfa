import Testing
import ToxiproxyModel

@Suite struct JSONObjectTests {
    private let mixed = JSONObject([
        (key: "NAME", value: .string("upper")),
        (key: "name", value: .string("exact1")),
        (key: "Name", value: .string("title")),
        (key: "name", value: .string("exact2")),
        (key: "nAmE", value: .string("mixed")),
    ])

    @Test func theLastExactMatchWins() {
        #expect(mixed.value(forKey: "name") == .string("exact2"))
    }

    @Test func withoutAnExactMatchTheLastCaseInsensitiveMatchWins() {
        #expect(mixed.value(forKey: "NaMe") == .string("mixed"))
        let object = JSONObject([(key: "LISTEN", value: .string("a")), (key: "Listen", value: .string("b"))])
        #expect(object.value(forKey: "listen") == .string("b"))
    }

    @Test func missingKeysGiveNil() {
        #expect(mixed.value(forKey: "names") == nil)
        #expect(JSONObject().value(forKey: "name") == nil)
    }

    @Test(arguments: [
        ("upſtream", "upstream"),  // LATIN SMALL LETTER LONG S folds to S
        ("\u{212A}ey", "key"),  // KELVIN SIGN folds to K
        ("lİsten", "listen"),  // dotted capital I folds to I
        ("lıSTEN", "listen"),  // dotless small i folds to I
        ("ÉTÉ", "été"),
    ])
    func caseFoldingFollowsGo(key: String, field: String) {
        let object = JSONObject([(key: key, value: .bool(true))])
        #expect(object.value(forKey: field) == .bool(true))
    }

    @Test func equalityIsOrderSensitive() {
        let ab = JSONObject([(key: "a", value: .null), (key: "b", value: .null)])
        let ba = JSONObject([(key: "b", value: .null), (key: "a", value: .null)])
        #expect(ab == JSONObject([(key: "a", value: .null), (key: "b", value: .null)]))
        #expect(ab != ba)
        #expect(ab != JSONObject([(key: "a", value: .null)]))
    }

    @Test func kindNamesMatchGoUnmarshalErrors() {
        #expect(JSONValue.null.kindName == "null")
        #expect(JSONValue.bool(true).kindName == "bool")
        #expect(JSONValue.number("1").kindName == "number")
        #expect(JSONValue.string("").kindName == "string")
        #expect(JSONValue.array([]).kindName == "array")
        #expect(JSONValue.object(JSONObject()).kindName == "object")
    }
}
