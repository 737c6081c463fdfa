import ToxiproxyModel

// The JSON of the scenario API, in one place for the server and the client. The encoders live next to their
// types (`ScenarioStatus+JSON.swift`, `ScenarioEvent+JSON.swift`, `RecoveryReport+JSON.swift`); this file holds
// what they share: the compact writer, the millisecond figures and the typed reader.

extension JSONValue {
    /// Compact JSON text. Numbers are written as their literal text; strings are escaped per RFC 8259 (quote,
    /// backslash and control characters only, so `<` and non-ASCII text stay readable in event streams).
    public var text: String {
        var output = ""
        Self.write(self, to: &output)
        return output
    }

    /// A millisecond (or any fractional) figure as the wire carries it: at most 3 decimals, a whole number
    /// without a fraction (`1234.5`, `600000`).
    public static func milliseconds(_ value: Double) -> JSONValue {
        .number(value.wireDecimalText)
    }

    /// `milliseconds(value)`, or `null` (and likewise below).
    static func optionalMilliseconds(_ value: Double?) -> JSONValue {
        value.map { .milliseconds($0) } ?? .null
    }

    static func integer(_ value: some BinaryInteger) -> JSONValue {
        .number(String(value))
    }

    static func optionalInteger(_ value: Int?) -> JSONValue {
        value.map { .integer($0) } ?? .null
    }

    static func optionalString(_ value: String?) -> JSONValue {
        value.map { .string($0) } ?? .null
    }

    static func fields(_ members: [(key: String, value: JSONValue)]) -> JSONValue {
        .object(JSONObject(members))
    }

    private static func write(_ value: JSONValue, to output: inout String) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .number(let literal): output += literal
        case .string(let string): writeQuoted(string, to: &output)
        case .array(let elements):
            output += "["
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output += "," }
                write(element, to: &output)
            }
            output += "]"
        case .object(let object):
            output += "{"
            for (offset, member) in object.members.enumerated() {
                if offset > 0 { output += "," }
                writeQuoted(member.key, to: &output)
                output += ":"
                write(member.value, to: &output)
            }
            output += "}"
        }
    }

    private static let hexDigits = Array("0123456789abcdef")

    private static func writeQuoted(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}":
                let value = Int(scalar.value)
                output += "\\u00"
                output.append(hexDigits[value >> 4])
                output.append(hexDigits[value & 0xF])
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

extension Double {
    /// At most 3 decimals, no trailing zeros, no exponent: `1234.5`, `600000`, `-0.25`. Rounds half away from
    /// zero at the third decimal. Not finite values (which JSON cannot carry) are written as `0`.
    var wireDecimalText: String {
        guard self.isFinite else { return "0" }
        let thousandths = (self * 1000).rounded()
        // Beyond 2^53 thousandths (about 285 years in ms) the fraction is meaningless; keep the whole part.
        guard abs(thousandths) < 9.0e15 else {
            return abs(self) < 9.2e18 ? String(Int64(self)) : "0"
        }
        let scaled = Int64(thousandths)
        let sign = scaled < 0 ? "-" : ""
        let magnitude = scaled.magnitude
        let whole = magnitude / 1000
        var fraction = magnitude % 1000
        guard fraction != 0 else { return sign + String(whole) }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }
}

/// Reads one JSON object with the field path of every value, for errors that name the exact key
/// (`history[2].started_ms: must be a number, got string`). Unknown keys are ignored (newer servers may add
/// some); types are checked strictly. A missing or `null` list reads as empty.
struct WireObject {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String) throws(ScenarioError) {
        guard case .object(let object) = value else {
            throw .invalid(path, "must be an object, got \(value.kindName)")
        }
        self.object = object
        self.path = path
    }

    func path(_ key: String) -> String { self.path.isEmpty ? key : "\(self.path).\(key)" }

    /// The last member named exactly `key` (keys are case-sensitive on this API).
    func value(_ key: String) -> JSONValue? {
        self.object.members.last(where: { $0.key == key })?.value
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = self.value(key), value != .null else { return nil }
        return value
    }

    private func required(_ key: String) throws(ScenarioError) -> JSONValue {
        guard let value = self.value(key) else { throw .invalid(self.path(key), "missing") }
        return value
    }

    func string(_ key: String) throws(ScenarioError) -> String {
        try Self.string(try self.required(key), path: self.path(key))
    }

    func optionalString(_ key: String) throws(ScenarioError) -> String? {
        guard let value = self.present(key) else { return nil }
        return try Self.string(value, path: self.path(key))
    }

    func bool(_ key: String) throws(ScenarioError) -> Bool {
        let value = try self.required(key)
        guard case .bool(let flag) = value else {
            throw .invalid(self.path(key), "must be true or false, got \(value.kindName)")
        }
        return flag
    }

    func double(_ key: String) throws(ScenarioError) -> Double {
        try Self.double(try self.required(key), path: self.path(key))
    }

    func optionalDouble(_ key: String) throws(ScenarioError) -> Double? {
        guard let value = self.present(key) else { return nil }
        return try Self.double(value, path: self.path(key))
    }

    func int(_ key: String) throws(ScenarioError) -> Int {
        Int(try Self.int64(try self.required(key), path: self.path(key)))
    }

    func optionalInt(_ key: String) throws(ScenarioError) -> Int? {
        guard let value = self.present(key) else { return nil }
        return Int(try Self.int64(value, path: self.path(key)))
    }

    func int64(_ key: String) throws(ScenarioError) -> Int64 {
        try Self.int64(try self.required(key), path: self.path(key))
    }

    func object(_ key: String) throws(ScenarioError) -> WireObject {
        try WireObject(try self.required(key), path: self.path(key))
    }

    func optionalObject(_ key: String) throws(ScenarioError) -> WireObject? {
        guard let value = self.present(key) else { return nil }
        return try WireObject(value, path: self.path(key))
    }

    /// The elements of a list with their paths (`key[i]`); missing or `null` is empty.
    func list(_ key: String) throws(ScenarioError) -> [(value: JSONValue, path: String)] {
        guard let value = self.present(key) else { return [] }
        guard case .array(let elements) = value else {
            throw .invalid(self.path(key), "must be a list, got \(value.kindName)")
        }
        return elements.enumerated().map { ($0.element, "\(self.path(key))[\($0.offset)]") }
    }

    func strings(_ key: String) throws(ScenarioError) -> [String] {
        var result: [String] = []
        for element in try self.list(key) {
            result.append(try Self.string(element.value, path: element.path))
        }
        return result
    }

    func objects<T>(
        _ key: String,
        _ decode: (WireObject) throws(ScenarioError) -> T
    ) throws(ScenarioError) -> [T] {
        var result: [T] = []
        for element in try self.list(key) {
            result.append(try decode(try WireObject(element.value, path: element.path)))
        }
        return result
    }

    /// A string that must be one of an enum's raw values.
    func enumeration<T: RawRepresentable & CaseIterable>(
        _ key: String,
        _: T.Type
    ) throws(ScenarioError) -> T where T.RawValue == String {
        try Self.enumeration(try self.string(key), path: self.path(key))
    }

    func optionalEnumeration<T: RawRepresentable & CaseIterable>(
        _ key: String,
        _: T.Type
    ) throws(ScenarioError) -> T? where T.RawValue == String {
        guard let text = try self.optionalString(key) else { return nil }
        return try Self.enumeration(text, path: self.path(key))
    }

    static func enumeration<T: RawRepresentable & CaseIterable>(
        _ text: String,
        path: String
    ) throws(ScenarioError) -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw .invalid(path, "must be one of \(allowed), got \"\(text)\"")
        }
        return value
    }

    static func string(_ value: JSONValue, path: String) throws(ScenarioError) -> String {
        guard case .string(let string) = value else {
            throw .invalid(path, "must be a string, got \(value.kindName)")
        }
        return string
    }

    static func double(_ value: JSONValue, path: String) throws(ScenarioError) -> Double {
        guard case .number(let literal) = value else {
            throw .invalid(path, "must be a number, got \(value.kindName)")
        }
        guard let number = Double(literal), number.isFinite else {
            throw .invalid(path, "must be a finite number, got \(literal)")
        }
        return number
    }

    static func int64(_ value: JSONValue, path: String) throws(ScenarioError) -> Int64 {
        guard case .number(let literal) = value else {
            throw .invalid(path, "must be a whole number, got \(value.kindName)")
        }
        if let integer = Int64(literal) { return integer }
        // `1e3` and `5.0` are whole numbers too, written by other encoders.
        guard let number = Double(literal), number.rounded() == number, abs(number) < 9.0e18 else {
            throw .invalid(path, "must be a whole number, got \(literal)")
        }
        return Int64(number)
    }
}
