/// The body of `POST /proxies`, `POST|PATCH /proxies/{p}` and one `/populate` entry, decoded with Go's rules.
///
/// A `nil` field was absent or `null`; the server applies its own defaults (e.g. `enabled` = true on create,
/// the current values on update).
public struct ProxyRequest: Sendable, Equatable {
    public var name: String?
    public var listen: String?
    public var upstream: String?
    public var enabled: Bool?

    /// Creates a request; all fields default to absent.
    public init(name: String? = nil, listen: String? = nil, upstream: String? = nil, enabled: Bool? = nil) {
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = enabled
    }

    /// The JSON keys of Go's `Proxy` struct, in field order; `Logger` is the leaked zerolog field.
    private static let fieldNames = ["name", "listen", "upstream", "enabled", "Logger"]

    /// Decodes one proxy body like Go decoding into `toxiproxy.Proxy`.
    ///
    /// Keys match case-insensitively (an exact match is preferred), members apply in document order so
    /// the last one wins, `null` leaves a field absent, unknown keys are ignored, and a top-level `null`
    /// gives an all-absent request. A mismatched type throws `bad request body: json: cannot unmarshal …`.
    public static func decode(_ value: JSONValue) throws(APIError) -> ProxyRequest {
        var unmarshal = GoUnmarshal()
        let request = decode(value, unmarshal: &unmarshal)
        try unmarshal.finish()
        return request
    }

    /// Decodes a `/populate` body, which must be a JSON array (or `null`, meaning no proxies).
    ///
    /// A `null` element gives an all-absent request. As in Go, every element is decoded before the first
    /// type error is thrown.
    public static func decodeList(_ value: JSONValue) throws(APIError) -> [ProxyRequest] {
        switch value {
        case .null:
            return []
        case .array(let elements):
            var unmarshal = GoUnmarshal()
            let requests = elements.map { decode($0, unmarshal: &unmarshal) }
            try unmarshal.finish()
            return requests
        default:
            throw GoUnmarshal.valueError(value.kindName, goType: "[]toxiproxy.Proxy")
        }
    }

    private static func decode(_ value: JSONValue, unmarshal: inout GoUnmarshal) -> ProxyRequest {
        var request = ProxyRequest()
        switch value {
        case .null:
            return request
        case .object(let object):
            for member in object.members {
                guard let field = GoFold.fieldIndex(forKey: member.key, in: fieldNames) else {
                    continue
                }
                let path = "Proxy." + fieldNames[field]
                switch field {
                case 0: request.name = unmarshal.string(member.value, path: path) ?? request.name
                case 1: request.listen = unmarshal.string(member.value, path: path) ?? request.listen
                case 2: request.upstream = unmarshal.string(member.value, path: path) ?? request.upstream
                case 3: request.enabled = unmarshal.bool(member.value, path: path) ?? request.enabled
                default:
                    // The logger struct has no exported fields: any object (or null) is accepted and ignored.
                    switch member.value {
                    case .object, .null:
                        continue
                    default:
                        unmarshal.record(
                            GoUnmarshal.fieldError(member.value.kindName, path: path, goType: "zerolog.Logger")
                        )
                    }
                }
            }
            return request
        default:
            unmarshal.record(GoUnmarshal.valueError(value.kindName, goType: "toxiproxy.Proxy"))
            return request
        }
    }
}
