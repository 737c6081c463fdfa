/// Reads one JSON value the way Go's `json.NewDecoder(r).Decode(&v)` does.
///
/// The parser is iterative (no recursion), so hostile nesting cannot overflow the stack, and it runs in
/// time linear in the input.
public enum JSONParser {
    /// Go's `maxNestingDepth`: more open arrays/objects than this is a syntax error.
    public static let maxDepth = 10_000

    /// Containers nested deeper than this are validated but returned empty.
    ///
    /// Releasing or comparing a `JSONValue` recurses once per level, and 10,000 levels overflow a 512 KiB
    /// thread stack. No request decoder looks below the third level, so dropping deeper content keeps the
    /// accept/reject decisions identical to Go while bounding that recursion.
    public static let maxRetainedDepth = 512

    /// Skips leading whitespace, reads exactly one JSON value and ignores whatever follows it.
    ///
    /// Errors carry Go's texts: `EOF` for empty or whitespace-only input, `unexpected EOF` when the input
    /// ends inside a value, and `invalid character …` for a bad byte. Containers deeper than
    /// ``maxRetainedDepth`` come back empty (see there).
    public static func parseFirstValue<Bytes: Collection>(
        _ bytes: Bytes
    ) throws(JSONSyntaxError) -> JSONValue where Bytes.Element == UInt8 {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in
                var parser = Parser(buffer)
                return try parser.parseValue()
            }
        }
        if let contiguous {
            return try contiguous.get()
        }
        let copy = Array(bytes)
        let result = copy.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in
                var parser = Parser(buffer)
                return try parser.parseValue()
            }
        }
        return try result.get()
    }
}

/// One open array or object while parsing.
private struct Frame {
    var isObject: Bool
    var elements: [JSONValue] = []
    var members: [(key: String, value: JSONValue)] = []
    /// The key whose value is being parsed (objects only).
    var key = ""
}

private struct Parser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard position < bytes.count else {
            throw .eof
        }
        // Open containers; the frames are mutated in place so appends never copy the element arrays.
        var stack: [Frame] = []
        while true {
            var value: JSONValue
            skipWhitespace()
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = byte == UInt8(ascii: "{")
                guard stack.count < JSONParser.maxDepth else {
                    throw .invalidCharacter(byte, "exceeded max depth")
                }
                position += 1
                skipWhitespace()
                let next = try peek()
                if isObject && next == UInt8(ascii: "}") {
                    position += 1
                    value = .object(JSONObject())
                } else if !isObject && next == UInt8(ascii: "]") {
                    position += 1
                    value = .array([])
                } else {
                    var frame = Frame(isObject: isObject)
                    if isObject {
                        frame.key = try parseKey()
                    }
                    stack.append(frame)
                    continue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = .number(try parseNumber())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            default:
                throw .invalidCharacter(byte, "looking for beginning of value")
            }

            // A value is complete: hand it to the enclosing containers, closing as many as end here.
            while true {
                guard !stack.isEmpty else {
                    return value
                }
                let top = stack.count - 1
                // Deeper values are validated but deliberately dropped: see `maxRetainedDepth`.
                if stack.count <= JSONParser.maxRetainedDepth {
                    if stack[top].isObject {
                        stack[top].members.append((key: stack[top].key, value: value))
                    } else {
                        stack[top].elements.append(value)
                    }
                }
                skipWhitespace()
                let next = try peek()
                if next == UInt8(ascii: ",") {
                    position += 1
                    if stack[top].isObject {
                        skipWhitespace()
                        stack[top].key = try parseKey()
                    }
                    break
                }
                if stack[top].isObject {
                    guard next == UInt8(ascii: "}") else {
                        throw .invalidCharacter(next, "after object key:value pair")
                    }
                    position += 1
                    value = .object(JSONObject(stack.removeLast().members))
                } else {
                    guard next == UInt8(ascii: "]") else {
                        throw .invalidCharacter(next, "after array element")
                    }
                    position += 1
                    value = .array(stack.removeLast().elements)
                }
            }
        }
    }

    // MARK: - Tokens

    /// Reads `"key"` and the `:` after it, with the position at the opening quote (after whitespace).
    private mutating func parseKey() throws(JSONSyntaxError) -> String {
        let byte = try peek()
        guard byte == UInt8(ascii: "\"") else {
            throw .invalidCharacter(byte, "looking for beginning of object key string")
        }
        let key = try parseString()
        skipWhitespace()
        let colon = try peek()
        guard colon == UInt8(ascii: ":") else {
            throw .invalidCharacter(colon, "after object key")
        }
        position += 1
        skipWhitespace()
        return key
    }

    /// Checks the rest of `true`, `false` or `null` with the position at its first letter.
    private mutating func expectLiteral(_ word: String) throws(JSONSyntaxError) {
        position += 1
        for expected in word.utf8.dropFirst() {
            let byte = try peek()
            guard byte == expected else {
                let wanted = Character(Unicode.Scalar(expected))
                throw .invalidCharacter(byte, "in literal \(word) (expecting '\(wanted)')")
            }
            position += 1
        }
    }

    /// Scans a number with Go's state machine and returns its literal text.
    ///
    /// A value such as `01` ends after the `0`: the `1` is left for the caller, which at top level means
    /// it is ignored as trailing data, exactly like Go's decoder.
    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = position
        if bytes[position] == UInt8(ascii: "-") {
            position += 1
            let byte = try peek()
            guard isDigit(byte) else {
                throw .invalidCharacter(byte, "in numeric literal")
            }
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            skipDigits()
        }
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            let byte = try peek()
            guard isDigit(byte) else {
                throw .invalidCharacter(byte, "after decimal point in numeric literal")
            }
            skipDigits()
        }
        if position < bytes.count && (bytes[position] | 0x20) == UInt8(ascii: "e") {
            position += 1
            var byte = try peek()
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                position += 1
                byte = try peek()
            }
            guard isDigit(byte) else {
                throw .invalidCharacter(byte, "in exponent of numeric literal")
            }
            skipDigits()
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    /// Scans and decodes a string with the position at its opening quote, following Go's `unquote`:
    /// invalid UTF-8 becomes U+FFFD per bad byte and unpaired surrogate escapes become U+FFFD.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1
        var utf8: [UInt8] = []
        var pendingHighSurrogate: UInt32?
        var segmentStart = position
        while true {
            guard position < bytes.count else {
                throw .unexpectedEOF
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                if position > segmentStart {
                    Self.flushSurrogate(&pendingHighSurrogate, into: &utf8)
                    Self.appendRawUTF8(UnsafeBufferPointer(rebasing: bytes[segmentStart..<position]), to: &utf8)
                }
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    Self.flushSurrogate(&pendingHighSurrogate, into: &utf8)
                    return String(decoding: utf8, as: UTF8.self)
                }
                try parseEscape(into: &utf8, pendingHighSurrogate: &pendingHighSurrogate)
                segmentStart = position
                continue
            }
            guard byte >= 0x20 else {
                throw .invalidCharacter(byte, "in string literal")
            }
            position += 1
        }
    }

    /// Decodes one escape with the position at its backslash.
    private mutating func parseEscape(
        into utf8: inout [UInt8],
        pendingHighSurrogate: inout UInt32?
    ) throws(JSONSyntaxError) {
        position += 1
        let byte = try peek()
        position += 1
        let simple: UInt8
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): simple = byte
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            var unit: UInt32 = 0
            for _ in 0..<4 {
                let digit = try peek()
                guard let value = Self.hexValue(digit) else {
                    throw .invalidCharacter(digit, "in \\u hexadecimal character escape")
                }
                unit = unit << 4 | value
                position += 1
            }
            Self.appendEscapedUnit(unit, into: &utf8, pendingHighSurrogate: &pendingHighSurrogate)
            return
        default:
            throw .invalidCharacter(byte, "in string escape code")
        }
        Self.flushSurrogate(&pendingHighSurrogate, into: &utf8)
        utf8.append(simple)
    }

    // MARK: - Helpers

    /// The current byte; running out of input here means the value was cut short.
    private func peek() throws(JSONSyntaxError) -> UInt8 {
        guard position < bytes.count else {
            throw .unexpectedEOF
        }
        return bytes[position]
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                position += 1
            default:
                return
            }
        }
    }

    private mutating func skipDigits() {
        while position < bytes.count && isDigit(bytes[position]) {
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Pairs `\uD8xx\uDCxx` like Go; any surrogate that does not pair up becomes U+FFFD.
    private static func appendEscapedUnit(
        _ unit: UInt32,
        into utf8: inout [UInt8],
        pendingHighSurrogate: inout UInt32?
    ) {
        if let high = pendingHighSurrogate {
            pendingHighSurrogate = nil
            if (0xDC00..<0xE000).contains(unit) {
                appendScalar(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00), to: &utf8)
                return
            }
            appendScalar(0xFFFD, to: &utf8)
        }
        switch unit {
        case 0xD800..<0xDC00: pendingHighSurrogate = unit
        case 0xDC00..<0xE000: appendScalar(0xFFFD, to: &utf8)
        default: appendScalar(unit, to: &utf8)
        }
    }

    private static func flushSurrogate(_ pendingHighSurrogate: inout UInt32?, into utf8: inout [UInt8]) {
        if pendingHighSurrogate != nil {
            pendingHighSurrogate = nil
            appendScalar(0xFFFD, to: &utf8)
        }
    }

    private static func appendScalar(_ value: UInt32, to utf8: inout [UInt8]) {
        guard let scalar = Unicode.Scalar(value) else {
            utf8.append(contentsOf: [0xEF, 0xBF, 0xBD])
            return
        }
        utf8.append(contentsOf: UTF8.encode(scalar)!)
    }

    /// Copies raw string bytes, replacing each byte that does not start a valid UTF-8 sequence with
    /// U+FFFD, which is what Go's `utf8.DecodeRune` loop in `unquote` produces.
    private static func appendRawUTF8(_ raw: UnsafeBufferPointer<UInt8>, to utf8: inout [UInt8]) {
        var index = 0
        while index < raw.count {
            let lead = raw[index]
            if lead < 0x80 {
                utf8.append(lead)
                index += 1
                continue
            }
            let length = validSequenceLength(raw, at: index)
            if length == 0 {
                utf8.append(contentsOf: [0xEF, 0xBF, 0xBD])
                index += 1
            } else {
                utf8.append(contentsOf: raw[index..<index + length])
                index += length
            }
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index`, or 0 if there is none.
    private static func validSequenceLength(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let lead = raw[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: return 0
        }
        guard index + length <= raw.count, secondRange.contains(raw[index + 1]) else {
            return 0
        }
        for offset in 2..<length where !(0x80...0xBF).contains(raw[index + offset]) {
            return 0
        }
        return length
    }
}
