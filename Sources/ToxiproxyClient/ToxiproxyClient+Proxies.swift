import NIOHTTP1
import ToxiproxyModel

extension ToxiproxyClient {
    /// Every proxy, sorted by name.
    public func proxies() async throws(ToxiproxyClientError) -> [Proxy] {
        let (_, body) = try await self.send(.GET, "/proxies")
        let proxies = try self.decode(body, request: "GET \(self.baseURL)/proxies") {
            value throws(ResponseDecodingError) -> [Proxy] in
            guard case .object(let object) = value else {
                throw ResponseDecodingError("expected an object of proxies, got \(value.kindName)")
            }
            return try object.members.map { member throws(ResponseDecodingError) in try Proxy(response: member.value) }
        }
        return proxies.sorted { $0.name < $1.name }
    }

    public func proxy(named name: String) async throws(ToxiproxyClientError) -> Proxy {
        let path = "/proxies/\(name.pathEscaped)"
        let (_, body) = try await self.send(.GET, path)
        return try self.decode(body, request: "GET \(self.baseURL)\(path)") { value throws(ResponseDecodingError) in
            try Proxy(response: value)
        }
    }

    /// Creates a proxy; `listen` empty means every interface on a free port.
    public func createProxy(
        name: String,
        listen: String,
        upstream: String,
        enabled: Bool = true
    ) async throws(ToxiproxyClientError) -> Proxy {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("name")
        writer.string(name)
        writer.key("listen")
        writer.string(listen)
        writer.key("upstream")
        writer.string(upstream)
        writer.key("enabled")
        writer.bool(enabled)
        writer.endObject()
        let (_, body) = try await self.send(.POST, "/proxies", body: writer.output)
        return try self.decode(body, request: "POST \(self.baseURL)/proxies") { value throws(ResponseDecodingError) in
            try Proxy(response: value)
        }
    }

    /// Changes the given fields of a proxy; the others keep their values.
    public func updateProxy(
        named name: String,
        listen: String? = nil,
        upstream: String? = nil,
        enabled: Bool? = nil
    ) async throws(ToxiproxyClientError) -> Proxy {
        var writer = JSONWriter()
        writer.beginObject()
        if let listen {
            writer.key("listen")
            writer.string(listen)
        }
        if let upstream {
            writer.key("upstream")
            writer.string(upstream)
        }
        if let enabled {
            writer.key("enabled")
            writer.bool(enabled)
        }
        writer.endObject()
        // POST, not PATCH: it is what the reference's Go client sends, and every 2.x server takes it.
        let path = "/proxies/\(name.pathEscaped)"
        let (_, body) = try await self.send(.POST, path, body: writer.output)
        return try self.decode(body, request: "POST \(self.baseURL)\(path)") { value throws(ResponseDecodingError) in
            try Proxy(response: value)
        }
    }

    public func deleteProxy(named name: String) async throws(ToxiproxyClientError) {
        _ = try await self.send(.DELETE, "/proxies/\(name.pathEscaped)")
    }

    /// Creates or replaces proxies in one call (`/populate`); an identical existing proxy is kept as it is.
    public func populate(_ proxies: [Proxy]) async throws(ToxiproxyClientError) -> [Proxy] {
        var writer = JSONWriter()
        writer.beginArray()
        for proxy in proxies {
            writer.beginObject()
            writer.key("name")
            writer.string(proxy.name)
            writer.key("listen")
            writer.string(proxy.listen)
            writer.key("upstream")
            writer.string(proxy.upstream)
            writer.key("enabled")
            writer.bool(proxy.enabled)
            writer.endObject()
        }
        writer.endArray()
        let (_, body) = try await self.send(.POST, "/populate", body: writer.output)
        return try self.decode(body, request: "POST \(self.baseURL)/populate") {
            value throws(ResponseDecodingError) -> [Proxy] in
            guard case .object(let object) = value else {
                throw ResponseDecodingError("expected {\"proxies\": [...]}, got \(value.kindName)")
            }
            switch object.value(forKey: "proxies") {
            case .array(let elements):
                return try elements.map { element throws(ResponseDecodingError) in try Proxy(response: element) }
            case .null, nil:
                return []
            case .some(let other):
                throw ResponseDecodingError("proxies: expected an array, got \(other.kindName)")
            }
        }
    }
}

extension String {
    /// Percent-escapes everything but RFC 3986 unreserved characters, for one path segment.
    var pathEscaped: String {
        var escaped = ""
        for byte in self.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                escaped += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return escaped
    }
}
