/// A parsed JSON value that keeps numbers as their literal text.
///
/// Numbers stay textual because Go's decoder decides per target type whether a literal is acceptable
/// (`1.0` is a valid float32 but not a valid int64), so the text must survive until the target is known.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The literal text of the number exactly as it appeared in the input, e.g. `"1.0"`, `"-3"`, `"1e3"`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The word Go's `encoding/json` uses for this kind of value in unmarshal errors.
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
