/// Go `encoding/json` rules for storing JSON values into typed struct fields.
///
/// Go does not stop at the first type mismatch: it remembers the first error, keeps decoding the remaining
/// members, and returns that error at the end. Decoders built on this type do the same so that both the
/// error text and any partially applied state match the reference server.
struct GoUnmarshal {
    /// The first mismatch seen, already wrapped as `bad request body: …`.
    private(set) var firstError: APIError?

    /// Remembers `error` unless an earlier one is already recorded.
    mutating func record(_ error: APIError) {
        if firstError == nil {
            firstError = error
        }
    }

    /// Throws the first recorded error, if any.
    func finish() throws(APIError) {
        if let firstError {
            throw firstError
        }
    }

    /// `json: cannot unmarshal <what> into Go value of type <goType>`, for a mismatch at the top level.
    static func valueError(_ what: String, goType: String) -> APIError {
        .badRequestBody("json: cannot unmarshal \(what) into Go value of type \(goType)")
    }

    /// `json: cannot unmarshal <what> into Go struct field <path> of type <goType>`.
    static func fieldError(_ what: String, path: String, goType: String) -> APIError {
        .badRequestBody("json: cannot unmarshal \(what) into Go struct field \(path) of type \(goType)")
    }

    /// A string field: `nil` for `null` (field left unchanged) or after recording a mismatch.
    mutating func string(_ value: JSONValue, path: String) -> String? {
        switch value {
        case .null:
            return nil
        case .string(let string):
            return string
        default:
            record(Self.fieldError(value.kindName, path: path, goType: "string"))
            return nil
        }
    }

    /// A bool field: `nil` for `null` (field left unchanged) or after recording a mismatch.
    mutating func bool(_ value: JSONValue, path: String) -> Bool? {
        switch value {
        case .null:
            return nil
        case .bool(let bool):
            return bool
        default:
            record(Self.fieldError(value.kindName, path: path, goType: "bool"))
            return nil
        }
    }

    /// A float32 field: any JSON number whose value rounds to a finite float32 (like `strconv.ParseFloat`
    /// with bit size 32, underflow to zero included).
    mutating func float32(_ value: JSONValue, path: String) -> Float? {
        switch value {
        case .null:
            return nil
        case .number(let text):
            if let float = Float(text), float.isFinite {
                return float
            }
            record(Self.fieldError("number " + text, path: path, goType: "float32"))
            return nil
        default:
            record(Self.fieldError(value.kindName, path: path, goType: "float32"))
            return nil
        }
    }

    /// An integer field: only `-?[0-9]+` literals in the Int64 range (`strconv.ParseInt(s, 10, 64)`), so
    /// `1.0` and `1e3` are rejected like in Go.
    mutating func int64(_ value: JSONValue, path: String, goType: String) -> Int64? {
        switch value {
        case .null:
            return nil
        case .number(let text):
            if Self.isIntegerLiteral(text), let integer = Int64(text) {
                return integer
            }
            record(Self.fieldError("number " + text, path: path, goType: goType))
            return nil
        default:
            record(Self.fieldError(value.kindName, path: path, goType: goType))
            return nil
        }
    }

    private static func isIntegerLiteral(_ text: String) -> Bool {
        let digits = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
        return !digits.isEmpty && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
