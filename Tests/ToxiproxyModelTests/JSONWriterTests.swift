import Testing
import ToxiproxyModel

@Suite struct JSONWriterTests {
    @Test func commasAreInsertedBetweenMembersAndElements() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a")
        writer.int(1)
        writer.key("b")
        writer.beginArray()
        writer.bool(true)
        writer.bool(false)
        writer.null()
        writer.endArray()
        writer.key("c")
        writer.beginObject()
        writer.endObject()
        writer.key("d")
        writer.beginArray()
        writer.endArray()
        writer.key("e")
        writer.string("x")
        writer.endObject()
        #expect(writer.output == #"{"a":1,"b":[true,false,null],"c":{},"d":[],"e":"x"}"#)
    }

    @Test func nestedContainersInArrays() {
        var writer = JSONWriter()
        writer.beginArray()
        for name in ["x", "y"] {
            writer.beginObject()
            writer.key(name)
            writer.beginArray()
            writer.int(1)
            writer.int(2)
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        #expect(writer.output == #"[{"x":[1,2]},{"y":[1,2]}]"#)
    }

    @Test func rawValuesTakePartInCommaHandling() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.raw(#"{"a":1}"#)
        writer.raw("2")
        writer.endArray()
        #expect(writer.output == #"[{"a":1},2]"#)
    }

    @Test func integersCoverTheWholeRange() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.int(.min)
        writer.int(0)
        writer.int(.max)
        writer.endArray()
        #expect(writer.output == "[-9223372036854775808,0,9223372036854775807]")
    }

    @Test func stringsAreEscapedLikeGo() {
        var writer = JSONWriter()
        writer.string("q\" b\\ n\n r\r t\t bs\u{8} ff\u{C} nul\u{0} us\u{1F} <>& \u{2028}\u{2029} é 😀 del\u{7F} /")
        let expected =
            #""q\" b\\ n\n r\r t\t bs\b ff\f nul\u0000 us\u001f \u003c\u003e\u0026 \u2028\u2029 é 😀 del"#
            + "\u{7F} /\""
        #expect(writer.output == expected)
    }

    @Test func keysAreEscapedToo() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("<k>")
        writer.int(1)
        writer.endObject()
        #expect(writer.output == #"{"\u003ck\u003e":1}"#)
    }

    @Test(
        arguments: [
            (0.2, "0.2"), (0.5, "0.5"), (1, "1"), (0, "0"), (-0.0, "-0"), (-2, "-2"), (100, "100"),
            (0.1, "0.1"), (123_456.7, "123456.7"), (16_777_216, "16777216"), (1.0 / 3.0, "0.33333334"),
            (1e-7, "1e-7"), (9.999999e-7, "9.999999e-7"), (0.000001, "0.000001"), (0.00001, "0.00001"),
            (1.5e-10, "1.5e-10"), (1e20, "100000000000000000000"), (1e21, "1e+21"), (2.5e25, "2.5e+25"),
            (Float.greatestFiniteMagnitude, "3.4028235e+38"), (Float.leastNonzeroMagnitude, "1e-45"),
            (-1e-7, "-1e-7"),
        ] as [(Float, String)]
    )
    func float32UsesGoFormatting(value: Float, expected: String) {
        var writer = JSONWriter()
        writer.float32(value)
        #expect(writer.output == expected)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func unencodableFloatsBecomeZero(value: Float) {
        var writer = JSONWriter()
        writer.float32(value)
        #expect(writer.output == "0")
    }
}
