import NIOHTTP1
import ToxiproxyModel

extension ToxiproxyClient {
    /// A proxy's toxics: upstream ones first, then downstream, each in creation order.
    public func toxics(ofProxy proxyName: String) async throws(ToxiproxyClientError) -> [Toxic] {
        let path = "/proxies/\(proxyName.pathEscaped)/toxics"
        let (_, body) = try await self.send(.GET, path)
        return try self.decode(body, request: "GET \(self.baseURL)\(path)") {
            value throws(ResponseDecodingError) -> [Toxic] in
            switch value {
            case .array(let elements):
                return try elements.map { element throws(ResponseDecodingError) in try Toxic(response: element) }
            case .null:
                return []
            default:
                throw ResponseDecodingError("expected an array of toxics, got \(value.kindName)")
            }
        }
    }

    public func toxic(named toxicName: String, ofProxy proxyName: String) async throws(ToxiproxyClientError) -> Toxic {
        let path = "/proxies/\(proxyName.pathEscaped)/toxics/\(toxicName.pathEscaped)"
        let (_, body) = try await self.send(.GET, path)
        return try self.decode(body, request: "GET \(self.baseURL)\(path)") { value throws(ResponseDecodingError) in
            try Toxic(response: value)
        }
    }

    /// Adds a toxic; it applies to the proxy's live connections at once.
    public func addToxic(
        _ definition: ToxicDefinition,
        toProxy proxyName: String
    ) async throws(ToxiproxyClientError) -> Toxic {
        let path = "/proxies/\(proxyName.pathEscaped)/toxics"
        // Creation answers 200 on every 2.x server (not 201); any 2xx is accepted.
        let (_, body) = try await self.send(.POST, path, body: definition.jsonBody)
        return try self.decode(body, request: "POST \(self.baseURL)\(path)") { value throws(ResponseDecodingError) in
            try Toxic(response: value)
        }
    }

    /// Changes a toxic's attributes (merged key by key) and, if given, its toxicity. Name, type and stream
    /// cannot change.
    public func updateToxic(
        named toxicName: String,
        ofProxy proxyName: String,
        attributes: [(name: String, value: Int64)],
        toxicity: Float? = nil
    ) async throws(ToxiproxyClientError) -> Toxic {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("attributes")
        writeAttributes(attributes, to: &writer)
        if let toxicity {
            writer.key("toxicity")
            writer.float32(toxicity)
        }
        writer.endObject()
        let path = "/proxies/\(proxyName.pathEscaped)/toxics/\(toxicName.pathEscaped)"
        let (_, body) = try await self.send(.PATCH, path, body: writer.output)
        return try self.decode(body, request: "PATCH \(self.baseURL)\(path)") { value throws(ResponseDecodingError) in
            try Toxic(response: value)
        }
    }

    public func removeToxic(named toxicName: String, fromProxy proxyName: String) async throws(ToxiproxyClientError) {
        _ = try await self.send(.DELETE, "/proxies/\(proxyName.pathEscaped)/toxics/\(toxicName.pathEscaped)")
    }
}
