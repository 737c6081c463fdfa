import Testing
import ToxiproxyModel

@Suite struct JSONParserTests {
    // MARK: - End of input

    @Test(arguments: ["", " ", " \t\r\n "])
    func emptyOrWhitespaceInputIsEOF(text: String) {
        #expect(syntaxError(text) == "EOF")
    }

    @Test(arguments: [
        "{", "[", "{\"a\"", "{\"a\":", "{\"a\":1", "[1,", "[1 ", "\"abc", "\"a\\", "\"\\u12", "tru", "fa", "n",
        "-", "1.", "1e", "1e+", " {\"a\":[1,{\"b\":",
    ])
    func inputEndingInsideAValueIsUnexpectedEOF(text: String) {
        #expect(syntaxError(text) == "unexpected EOF")
    }

    // MARK: - Go's scanner messages

    @Test(arguments: [
        ("x", "invalid character 'x' looking for beginning of value"),
        ("}", "invalid character '}' looking for beginning of value"),
        ("[1,]", "invalid character ']' looking for beginning of value"),
        ("{\"a\" 1}", "invalid character '1' after object key"),
        ("{\"a\":1 \"b\":2}", "invalid character '\"' after object key:value pair"),
        ("[1 2]", "invalid character '2' after array element"),
        ("[01]", "invalid character '1' after array element"),
        ("{1:2}", "invalid character '1' looking for beginning of object key string"),
        ("{\"a\":1,}", "invalid character '}' looking for beginning of object key string"),
        ("\"a\tb\"", #"invalid character '\t' in string literal"#),
        (#""\x""#, "invalid character 'x' in string escape code"),
        (#""\u12G4""#, #"invalid character 'G' in \u hexadecimal character escape"#),
        ("tx", "invalid character 'x' in literal true (expecting 'r')"),
        ("trux", "invalid character 'x' in literal true (expecting 'e')"),
        ("falsy", "invalid character 'y' in literal false (expecting 'e')"),
        ("nul!", "invalid character '!' in literal null (expecting 'l')"),
        ("-a", "invalid character 'a' in numeric literal"),
        ("1.e", "invalid character 'e' after decimal point in numeric literal"),
        ("1e+x", "invalid character 'x' in exponent of numeric literal"),
        ("'a'", #"invalid character '\'' looking for beginning of value"#),
        ("\\", #"invalid character '\\' looking for beginning of value"#),
    ])
    func invalidCharactersUseGoWording(text: String, message: String) {
        #expect(syntaxError(text) == message)
    }

    @Test(
        arguments: [
            ([0x01], #"invalid character '\x01' looking for beginning of value"#),
            ([0x7F], #"invalid character '\x7f' looking for beginning of value"#),
            ([0x0B], #"invalid character '\v' looking for beginning of value"#),
            ([0x80], #"invalid character '\u0080' looking for beginning of value"#),
            ([0xA0], #"invalid character '\u00a0' looking for beginning of value"#),
            ([0xEF, 0xBB, 0xBF], "invalid character 'ï' looking for beginning of value"),
            ([0x22, 0x00, 0x22], #"invalid character '\x00' in string literal"#),
        ] as [([UInt8], String)]
    )
    func invalidBytesAreQuotedLikeGo(bytes: [UInt8], message: String) {
        #expect(syntaxError(bytes) == message)
    }

    // MARK: - Only the first value is read

    @Test func trailingGarbageAfterTheFirstValueIsIgnored() throws {
        #expect(try json("{\"a\":1} garbage") == object(("a", .number("1"))))
        #expect(try json("[1]]") == .array([.number("1")]))
        #expect(try json("\"s\"x") == .string("s"))
        #expect(try json("truex") == .bool(true))
        #expect(try json("123abc") == .number("123"))
        #expect(try json(" null {") == .null)
    }

    @Test func leadingZeroEndsTheNumberLikeGo() throws {
        #expect(try json("01") == .number("0"))
        #expect(try json("-01") == .number("-0"))
    }

    // MARK: - Values

    @Test(arguments: ["0", "-3", "1.0", "1.5", "1e3", "1E+3", "-0.5e-7", "123456789012345678901234567890"])
    func numbersKeepTheirLiteralText(text: String) throws {
        #expect(try json(text) == .number(text))
        #expect(try json("[\(text)]") == .array([.number(text)]))
    }

    @Test func literalsAndContainers() throws {
        let value = try json(#" { "a" : [ true , false , null ] , "b" : { } , "c" : [ ] , "a" : "dup" } "#)
        #expect(
            value
                == object(
                    ("a", .array([.bool(true), .bool(false), .null])),
                    ("b", .object(JSONObject())),
                    ("c", .array([])),
                    ("a", .string("dup"))
                )
        )
    }

    @Test func whitespaceIsAllowedBetweenAllTokens() throws {
        #expect(
            try json("\t\r\n [ 1 ,\t2 ,\n[ ] ,{ } ]")
                == .array([.number("1"), .number("2"), .array([]), .object(JSONObject())])
        )
        #expect(
            try json(" { \"a\" :\n1 ,\r\"b\"\t: [ true ] } ")
                == object(("a", .number("1")), ("b", .array([.bool(true)])))
        )
    }

    @Test func simpleEscapesAreDecoded() throws {
        #expect(try json(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try json(#""\u00e9\u0000\u20AC""#) == .string("é\u{0}€"))
    }

    @Test func surrogatePairsCombineAndUnpairedOnesBecomeReplacementCharacters() throws {
        #expect(try json(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try json(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try json(#""\ud83dx""#) == .string("\u{FFFD}x"))
        #expect(try json(#""\ud83d""#) == .string("\u{FFFD}"))
        #expect(try json(#""\ude00""#) == .string("\u{FFFD}"))
        #expect(try json(#""\ud83d\ud83d\ude00""#) == .string("\u{FFFD}😀"))
        #expect(try json(#""\ud83d\n""#) == .string("\u{FFFD}\n"))
        #expect(try json(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
    }

    @Test func invalidUTF8BecomesOneReplacementCharacterPerBadByte() throws {
        let replacement = "\u{FFFD}"
        #expect(
            try JSONParser.parseFirstValue([0x22, 0xE2, 0x82, 0x41, 0x22]) == .string(replacement + replacement + "A")
        )
        #expect(try JSONParser.parseFirstValue([0x22, 0xC0, 0x80, 0x22]) == .string(replacement + replacement))
        #expect(
            try JSONParser.parseFirstValue([0x22, 0xED, 0xA0, 0x80, 0x22])
                == .string(String(repeating: replacement, count: 3))
        )
        #expect(try JSONParser.parseFirstValue([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x22]) == .string("😀"))
        #expect(
            try JSONParser.parseFirstValue([0x22, 0xE2, 0x82, 0x5C, 0x6E, 0x22])
                == .string(replacement + replacement + "\n")
        )
    }

    @Test func nonContiguousCollectionsAreAccepted() throws {
        let bytes = Array(#"{"k":[1,"v"]}"#.utf8).lazy.map { $0 }
        #expect(try JSONParser.parseFirstValue(bytes) == object(("k", .array([.number("1"), .string("v")]))))
    }

    // MARK: - Depth

    @Test func nestingUpToTheMaximumDepthIsAccepted() throws {
        let depth = JSONParser.maxDepth
        let value = try json(String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        // Deep content is dropped (see maxRetainedDepth), so the value stays cheap to release and compare.
        #expect(Self.depth(of: value) == JSONParser.maxRetainedDepth + 1)
        let objects = String(repeating: #"{"a":"#, count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        #expect(Self.depth(of: try json(objects)) == JSONParser.maxRetainedDepth + 1)
    }

    @Test func nestingBeyondTheMaximumDepthIsAnError() {
        let depth = JSONParser.maxDepth + 1
        #expect(syntaxError(String(repeating: "[", count: depth)) == "invalid character '[' exceeded max depth")
        let objects = String(repeating: "[", count: depth - 1) + "{"
        #expect(syntaxError(objects) == "invalid character '{' exceeded max depth")
    }

    @Test func shallowValuesAreRetainedCompletely() throws {
        let depth = JSONParser.maxRetainedDepth
        let text = String(repeating: "[", count: depth) + "7" + String(repeating: "]", count: depth)
        var value = try json(text)
        for _ in 0..<depth {
            guard case .array(let elements) = value, elements.count == 1 else {
                Issue.record("expected a one-element array")
                return
            }
            value = elements[0]
        }
        #expect(value == .number("7"))
    }

    @Test func largeInputsParseInLinearTime() throws {
        let count = 200_000
        let text = "[" + Array(repeating: #"{"k":"v\n","n":-1.5e3}"#, count: count).joined(separator: ",") + "]"
        guard case .array(let elements) = try json(text) else {
            Issue.record("expected an array")
            return
        }
        #expect(elements.count == count)
        let long = "\"" + String(repeating: "é", count: 500_000) + "\""
        #expect(try json(long) == .string(String(repeating: "é", count: 500_000)))
    }

    /// Container depth of `value`, computed without recursion.
    private static func depth(of value: JSONValue) -> Int {
        var maximum = 0
        var pending: [(JSONValue, Int)] = [(value, 1)]
        while let (current, level) = pending.popLast() {
            switch current {
            case .array(let elements):
                maximum = max(maximum, level)
                pending += elements.map { ($0, level + 1) }
            case .object(let object):
                maximum = max(maximum, level)
                pending += object.members.map { ($0.value, level + 1) }
            default:
                break
            }
        }
        return maximum
    }
}
