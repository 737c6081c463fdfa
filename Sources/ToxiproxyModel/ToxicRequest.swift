/// The body of `POST /proxies/{p}/toxics`, decoded with Go's rules into the common toxic fields.
///
/// The attributes stay raw because their meaning depends on `type`, which is only validated later.
public struct ToxicRequest: Sendable, Equatable {
    public var name: String?
    public var type: String?
    /// The stream string as supplied; `nil` when absent or `null` (meaning downstream).
    public var stream: String?
    public var toxicity: Float?
    /// The attribute object(s) to decode against the type; `nil` when absent or `null`.
    ///
    /// Go decodes every `attributes` member into the same struct, so duplicate members merge rather than
    /// replace; this holds their members concatenated in document order to give the same result.
    public var attributes: JSONValue?

    /// Creates a request; all fields default to absent.
    public init(
        name: String? = nil,
        type: String? = nil,
        stream: String? = nil,
        toxicity: Float? = nil,
        attributes: JSONValue? = nil
    ) {
        self.name = name
        self.type = type
        self.stream = stream
        self.toxicity = toxicity
        self.attributes = attributes
    }

    /// The JSON keys of Go's `ToxicWrapper` struct, in field order.
    private static let fieldNames = ["attributes", "name", "type", "stream", "toxicity"]

    /// Decodes a create-toxic body like Go decoding into `toxics.ToxicWrapper`.
    ///
    /// Keys match case-insensitively (exact match preferred), the last member wins, `null` leaves a field
    /// absent and unknown keys are ignored. `attributes` must be an object or `null` at this stage, since Go
    /// first decodes it into an empty struct; a top-level `null` gives an all-absent request.
    public static func decode(_ value: JSONValue) throws(APIError) -> ToxicRequest {
        var request = ToxicRequest()
        let object: JSONObject
        switch value {
        case .null:
            return request
        case .object(let decoded):
            object = decoded
        default:
            throw GoUnmarshal.valueError(value.kindName, goType: "toxics.ToxicWrapper")
        }

        var unmarshal = GoUnmarshal()
        var attributeMembers: [(key: String, value: JSONValue)] = []
        var sawAttributes = false
        // Go's `null` clears the embedded interface, after which any further non-null value fails to decode.
        var attributesCleared = false
        for member in object.members {
            guard let field = GoFold.fieldIndex(forKey: member.key, in: fieldNames) else {
                continue
            }
            let path = "ToxicWrapper." + fieldNames[field]
            switch field {
            case 0:
                switch member.value {
                case .null:
                    attributesCleared = true
                case .object(let attributes) where !attributesCleared:
                    attributeMembers.append(contentsOf: attributes.members)
                    sawAttributes = true
                default:
                    let goType = attributesCleared ? "toxics.Toxic" : "toxics.NoopToxic"
                    unmarshal.record(GoUnmarshal.fieldError(member.value.kindName, path: path, goType: goType))
                }
            case 1: request.name = unmarshal.string(member.value, path: path) ?? request.name
            case 2: request.type = unmarshal.string(member.value, path: path) ?? request.type
            case 3: request.stream = unmarshal.string(member.value, path: path) ?? request.stream
            default: request.toxicity = unmarshal.float32(member.value, path: path) ?? request.toxicity
            }
        }
        try unmarshal.finish()
        request.attributes = sawAttributes ? .object(JSONObject(attributeMembers)) : nil
        return request
    }
}
