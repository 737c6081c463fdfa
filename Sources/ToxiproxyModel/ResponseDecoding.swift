/// A response body that is not what a Toxiproxy 2.x server sends.
public struct ResponseDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension Proxy {
    /// Reads a proxy object as any Toxiproxy 2.x server reports it (ours or the reference), leniently:
    /// unknown keys are ignored, and `toxics` may be absent or `null` (older servers).
    public init(response value: JSONValue) throws(ResponseDecodingError) {
        guard case .object(let object) = value else {
            throw ResponseDecodingError("expected a proxy object, got \(value.kindName)")
        }
        self.init(
            name: try object.requiredString("name", in: "proxy"),
            listen: try object.requiredString("listen", in: "proxy"),
            upstream: try object.requiredString("upstream", in: "proxy"),
            enabled: try object.requiredBool("enabled", in: "proxy")
        )
        switch object.value(forKey: "toxics") {
        case .array(let elements):
            self.toxics = try elements.map { element throws(ResponseDecodingError) in try Toxic(response: element) }
        case .null, nil:
            self.toxics = []
        case .some(let other):
            throw ResponseDecodingError("proxy field toxics: expected an array, got \(other.kindName)")
        }
    }
}

extension Toxic {
    /// Reads a toxic object as any Toxiproxy 2.x server reports it. A type this library does not know keeps
    /// its attributes in the order the server sent them; attribute values are read as integers (Toxiproxy's
    /// are all integers; a fractional value from a newer toxic is truncated toward zero).
    public init(response value: JSONValue) throws(ResponseDecodingError) {
        guard case .object(let object) = value else {
            throw ResponseDecodingError("expected a toxic object, got \(value.kindName)")
        }
        let name = try object.requiredString("name", in: "toxic")
        let typeName = try object.requiredString("type", in: "toxic")
        let stream = try object.requiredString("stream", in: "toxic")
        guard let direction = StreamDirection(parsing: stream) else {
            throw ResponseDecodingError("toxic \(name): unknown stream \"\(stream)\"")
        }
        var toxicity: Float = 1
        if case .number(let text) = object.value(forKey: "toxicity"), let parsed = Float(text) {
            toxicity = parsed
        }
        var attributeValues: [(String, Int64)] = []
        if case .object(let attributes) = object.value(forKey: "attributes") {
            for (key, value) in attributes.members {
                guard case .number(let text) = value else { continue }
                if let integer = Int64(text) {
                    attributeValues.append((key, integer))
                } else if let double = Double(text), double.isFinite, abs(double) < 9.2e18 {
                    attributeValues.append((key, Int64(double)))
                }
            }
        }
        let type =
            ToxicType.registered.first { $0.name == typeName }
            ?? ToxicType(name: typeName, attributeNames: attributeValues.map(\.0), goTypeName: typeName)
        var attributes = ToxicAttributes(type: type)
        for (key, value) in attributeValues {
            attributes[key] = value
        }
        self.init(
            name: name,
            type: type,
            stream: stream,
            direction: direction,
            toxicity: toxicity,
            attributes: attributes
        )
    }
}

extension JSONObject {
    fileprivate func requiredString(_ key: String, in kind: String) throws(ResponseDecodingError) -> String {
        guard case .string(let value) = self.value(forKey: key) else {
            throw ResponseDecodingError("\(kind) field \(key): missing or not a string")
        }
        return value
    }

    fileprivate func requiredBool(_ key: String, in kind: String) throws(ResponseDecodingError) -> Bool {
        guard case .bool(let value) = self.value(forKey: key) else {
            throw ResponseDecodingError("\(kind) field \(key): missing or not a boolean")
        }
        return value
    }
}
