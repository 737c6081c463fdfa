import ToxiproxyClient
import ToxiproxyModel

/// One admin API change. Impairments are computed as a list of these from the current state, so that a dry
/// run can print exactly what a real run would send.
public enum APICall: Sendable, Equatable, CustomStringConvertible {
    case createProxy(name: String, listen: String, upstream: String)
    case deleteProxy(name: String)
    case updateProxyAddress(proxy: String, listen: String, upstream: String)
    case setProxyEnabled(proxy: String, enabled: Bool)
    case addToxic(proxy: String, ToxicDefinition)
    case updateToxic(proxy: String, name: String, attributes: [(name: String, value: Int64)])
    case removeToxic(proxy: String, name: String)

    public static func == (lhs: APICall, rhs: APICall) -> Bool {
        lhs.description == rhs.description
    }

    /// The HTTP request this call sends, as `METHOD /path body`.
    public var description: String {
        switch self {
        case .createProxy(let name, let listen, let upstream):
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("name")
            writer.string(name)
            writer.key("listen")
            writer.string(listen)
            writer.key("upstream")
            writer.string(upstream)
            writer.key("enabled")
            writer.bool(true)
            writer.endObject()
            return "POST /proxies \(writer.output)"
        case .deleteProxy(let name):
            return "DELETE /proxies/\(name)"
        case .updateProxyAddress(let proxy, let listen, let upstream):
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("listen")
            writer.string(listen)
            writer.key("upstream")
            writer.string(upstream)
            writer.endObject()
            return "POST /proxies/\(proxy) \(writer.output)"
        case .setProxyEnabled(let proxy, let enabled):
            return "POST /proxies/\(proxy) {\"enabled\":\(enabled)}"
        case .addToxic(let proxy, let definition):
            return "POST /proxies/\(proxy)/toxics \(definition.jsonBody)"
        case .updateToxic(let proxy, let name, let attributes):
            let body = attributes.map { "\"\($0.name)\":\($0.value)" }.joined(separator: ",")
            return "PATCH /proxies/\(proxy)/toxics/\(name) {\"attributes\":{\(body)}}"
        case .removeToxic(let proxy, let name):
            return "DELETE /proxies/\(proxy)/toxics/\(name)"
        }
    }
}

extension ToxiproxyClient {
    /// Sends one change, tolerating the races an idempotent operation must survive: a toxic created meanwhile
    /// (409) is updated instead, and one already gone (404) counts as removed.
    public func perform(_ call: APICall) async throws(ToxiproxyClientError) {
        switch call {
        case .createProxy(let name, let listen, let upstream):
            _ = try await self.createProxy(name: name, listen: listen, upstream: upstream)
        case .deleteProxy(let name):
            do throws(ToxiproxyClientError) {
                try await self.deleteProxy(named: name)
            } catch  where error.isNotFound {}
        case .updateProxyAddress(let proxy, let listen, let upstream):
            _ = try await self.updateProxy(named: proxy, listen: listen, upstream: upstream)
        case .setProxyEnabled(let proxy, let enabled):
            _ = try await self.updateProxy(named: proxy, enabled: enabled)
        case .addToxic(let proxy, let definition):
            do throws(ToxiproxyClientError) {
                _ = try await self.addToxic(definition, toProxy: proxy)
            } catch  where error.isConflict && definition.name != nil {
                _ = try await self.updateToxic(
                    named: definition.name!,
                    ofProxy: proxy,
                    attributes: definition.attributes
                )
            }
        case .updateToxic(let proxy, let name, let attributes):
            _ = try await self.updateToxic(named: name, ofProxy: proxy, attributes: attributes)
        case .removeToxic(let proxy, let name):
            do throws(ToxiproxyClientError) {
                try await self.removeToxic(named: name, fromProxy: proxy)
            } catch  where error.isNotFound && error.message == "toxic not found" {}
        }
    }
}
