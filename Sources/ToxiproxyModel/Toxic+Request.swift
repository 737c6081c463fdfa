extension Toxic {
    /// The fields of a new toxic that are settled before its attributes are decoded.
    public typealias Header = (name: String, type: ToxicType, stream: String, direction: StreamDirection)

    /// Builds a toxic from a create request, running every check of the reference server except
    /// "name unused", which needs the proxy (see ``resolveHeader(from:)`` and ``make(header:request:)``).
    public static func make(from request: ToxicRequest) throws(APIError) -> Toxic {
        try make(header: resolveHeader(from: request), request: request)
    }

    /// The first create checks, in the reference order: stream parses (absent means `downstream`; `""` or an
    /// unknown value is ``APIError/invalidStream``), then the default name `<type>_<stream as supplied>` for a
    /// missing or empty name, then the type is registered (else ``APIError/invalidToxicType``).
    ///
    /// The server checks that the name is unused after this and before calling ``make(header:request:)``.
    public static func resolveHeader(from request: ToxicRequest) throws(APIError) -> Header {
        let stream = request.stream ?? "downstream"
        guard let direction = StreamDirection(parsing: stream) else {
            throw .invalidStream
        }
        let typeName = request.type ?? ""
        var name = request.name ?? ""
        if name.isEmpty {
            name = typeName + "_" + stream
        }
        guard let type = ToxicType.named(typeName) else {
            throw .invalidToxicType
        }
        return (name: name, type: type, stream: stream, direction: direction)
    }

    /// The last create step: decodes the attributes against the header's type (absent means all zero)
    /// and applies the default toxicity of 1.
    public static func make(header: Header, request: ToxicRequest) throws(APIError) -> Toxic {
        var attributes = ToxicAttributes(type: header.type)
        if let raw = request.attributes {
            try attributes.merge(raw, type: header.type)
        }
        return Toxic(
            name: header.name,
            type: header.type,
            stream: header.stream,
            direction: header.direction,
            toxicity: request.toxicity ?? 1,
            attributes: attributes
        )
    }

    /// The JSON keys read by a toxic update, in Go field order.
    private static let updateFieldNames = ["attributes", "toxicity"]

    /// Applies a `PATCH /proxies/{p}/toxics/{t}` body: only `attributes` (merged key by key) and `toxicity`
    /// are read; name, type and stream are immutable and everything else is ignored.
    ///
    /// Mirrors Go on errors: every valid attribute member is still merged into `self` and the first error
    /// is thrown afterwards, while `toxicity` is only changed when the whole body decodes. A `null` body or
    /// `null` members change nothing; after an `attributes: null`, later `attributes` members are ignored.
    public mutating func applyUpdate(_ value: JSONValue) throws(APIError) {
        let object: JSONObject
        switch value {
        case .null:
            return
        case .object(let decoded):
            object = decoded
        default:
            throw GoUnmarshal.valueError(value.kindName, goType: "toxics.ToxicWrapper")
        }

        // Go decodes PATCH bodies into an anonymous struct, whose empty name gives paths like `.toxicity`.
        var unmarshal = GoUnmarshal()
        var newToxicity = toxicity
        // Go decodes into an interface holding the live toxic; `null` replaces that interface, detaching
        // later `attributes` members from the toxic.
        var attributesDetached = false
        for member in object.members {
            guard let field = GoFold.fieldIndex(forKey: member.key, in: Self.updateFieldNames) else {
                continue
            }
            if field == 0 {
                if case .null = member.value {
                    attributesDetached = true
                } else if !attributesDetached {
                    attributes.merge(member.value, type: type, fieldPath: ".attributes", unmarshal: &unmarshal)
                }
            } else {
                newToxicity = unmarshal.float32(member.value, path: ".toxicity") ?? newToxicity
            }
        }
        try unmarshal.finish()
        toxicity = newToxicity
    }
}
