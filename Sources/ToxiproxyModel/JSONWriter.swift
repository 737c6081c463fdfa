/// Builds compact JSON byte-for-byte like Go's `json.Marshal`, inserting commas automatically.
///
/// Callers emit tokens in document order: `beginObject()`, then `key(_:)` followed by one value per member,
/// then `endObject()`. The writer does not validate the sequence; it only tracks where commas go.
public struct JSONWriter: Sendable {
    /// The JSON produced so far.
    public private(set) var output: String

    /// For each open container, whether it already holds an element (so the next one needs a comma).
    private var hasElement: [Bool] = []
    /// True right after `key(_:)`: the next value belongs to that key and takes no comma.
    private var afterKey = false

    /// Creates an empty writer.
    public init() {
        output = ""
    }

    /// Opens an object (`{`).
    public mutating func beginObject() {
        beginValue()
        output += "{"
        hasElement.append(false)
    }

    /// Closes the innermost object (`}`).
    public mutating func endObject() {
        hasElement.removeLast()
        output += "}"
    }

    /// Opens an array (`[`).
    public mutating func beginArray() {
        beginValue()
        output += "["
        hasElement.append(false)
    }

    /// Closes the innermost array (`]`).
    public mutating func endArray() {
        hasElement.removeLast()
        output += "]"
    }

    /// Writes an object key and its colon; the next call must write the member's value.
    public mutating func key(_ k: String) {
        beginValue()
        appendQuoted(k)
        output += ":"
        afterKey = true
    }

    /// Writes a string with Go's escaping (including its HTML-safe escapes).
    public mutating func string(_ s: String) {
        beginValue()
        appendQuoted(s)
    }

    /// Writes an integer.
    public mutating func int(_ v: Int64) {
        beginValue()
        output += String(v)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ b: Bool) {
        beginValue()
        output += b ? "true" : "false"
    }

    /// Writes `null`.
    public mutating func null() {
        beginValue()
        output += "null"
    }

    /// Writes a float32 the way Go's encoder prints it (`0.2`, `1`, `1e-7`, `1e+21`).
    ///
    /// Go refuses to encode NaN and infinities; this writes `0` for them instead because a response must
    /// still be produced. Neither can be decoded from JSON, so they only arise from programming errors.
    public mutating func float32(_ f: Float) {
        beginValue()
        output += Self.goFloat32(f)
    }

    /// Writes `json` verbatim as one value; it must already be valid compact JSON.
    public mutating func raw(_ json: String) {
        beginValue()
        output += json
    }

    // MARK: - Internals

    private mutating func beginValue() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = hasElement.indices.last else {
            return
        }
        if hasElement[last] {
            output += ","
        }
        hasElement[last] = true
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Go's `appendString` with HTML escaping on, which is what `json.Marshal` uses.
    private mutating func appendQuoted(_ s: String) {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22, 0x5C:
                bytes += [UInt8(ascii: "\\"), UInt8(scalar.value)]
            case 0x08:
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C:
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A:
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D:
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09:
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029:
                let value = scalar.value
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
                for shift in stride(from: 12, through: 0, by: -4) {
                    bytes.append(Self.hexDigits[Int((value >> UInt32(shift)) & 0xF)])
                }
            default:
                bytes += UTF8.encode(scalar)!
            }
        }
        bytes.append(UInt8(ascii: "\""))
        output += String(decoding: bytes, as: UTF8.self)
    }

    /// Formats like Go's `floatEncoder` for 32-bit floats: shortest round-trip digits, plain decimal
    /// notation unless the magnitude is below 1e-6 or at least 1e21, and `e-07` shortened to `e-7`.
    static func goFloat32(_ f: Float) -> String {
        guard f.isFinite else {
            return "0"
        }
        let sign = f.sign == .minus ? "-" : ""
        guard f != 0 else {
            return sign + "0"
        }
        // Float.description already yields the shortest round-trip digits; only the layout is re-done.
        let (digits, pointPosition) = decimalDigits(of: f.magnitude)
        let magnitude = f.magnitude
        if magnitude < 1e-6 || magnitude >= 1e21 {
            var mantissa = String(digits.first!)
            if digits.count > 1 {
                mantissa += "." + digits.dropFirst()
            }
            let exponent = pointPosition - 1
            let exponentDigits = String(abs(exponent))
            // strconv pads the exponent to two digits; Go's JSON encoder then strips the pad for e-0X only.
            let padded = exponent < 0 || exponentDigits.count >= 2 ? exponentDigits : "0" + exponentDigits
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + padded
        }
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// The significant digits of a positive finite float (no leading or trailing zeros) and the position of
    /// the decimal point relative to them: the value is `0.<digits> × 10^pointPosition`.
    private static func decimalDigits(of value: Float) -> (digits: String, pointPosition: Int) {
        let text = value.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        var digits = ""
        var pointPosition: Int?
        for character in parts[0] {
            if character == "." {
                pointPosition = digits.count
            } else {
                digits.append(character)
            }
        }
        var position = (pointPosition ?? digits.count) + exponent
        while digits.hasPrefix("0") {
            digits.removeFirst()
            position -= 1
        }
        while digits.hasSuffix("0") {
            digits.removeLast()
        }
        return (digits, position)
    }
}
