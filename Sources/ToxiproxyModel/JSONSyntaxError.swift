/// A JSON syntax error worded like Go's `encoding/json` decoder, because the text reaches clients
/// verbatim after `bad request body: `.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Go's error text, e.g. `EOF` or `invalid character 'x' looking for beginning of value`.
    public var message: String

    /// Creates an error with the given Go-style text.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// The input held no value at all (only whitespace).
    static let eof = JSONSyntaxError("EOF")

    /// The input ended inside a value.
    static let unexpectedEOF = JSONSyntaxError("unexpected EOF")

    /// Go's scanner error for an unexpected byte: `invalid character <quoted byte> <context>`.
    static func invalidCharacter(_ byte: UInt8, _ context: String) -> JSONSyntaxError {
        JSONSyntaxError("invalid character \(quoteChar(byte)) \(context)")
    }

    /// Mirrors Go's `quoteChar`, which quotes the byte as if it were the rune U+00XX with `strconv.Quote`.
    static func quoteChar(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return #"'\''"#
        case UInt8(ascii: "\""): return #"'"'"#
        case UInt8(ascii: "\\"): return #"'\\'"#
        case 0x07: return #"'\a'"#
        case 0x08: return #"'\b'"#
        case 0x09: return #"'\t'"#
        case 0x0A: return #"'\n'"#
        case 0x0B: return #"'\v'"#
        case 0x0C: return #"'\f'"#
        case 0x0D: return #"'\r'"#
        case 0x20...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
        case 0x00..<0x20, 0x7F: return "'\\x\(hex(byte, digits: 2))'"
        // Latin-1 controls, NO-BREAK SPACE and SOFT HYPHEN are not printable for strconv.IsPrint.
        case 0x80...0xA0, 0xAD: return "'\\u\(hex(byte, digits: 4))'"
        default: return "'\(Character(Unicode.Scalar(byte)))'"
        }
    }

    private static func hex(_ byte: UInt8, digits: Int) -> String {
        let text = String(byte, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
