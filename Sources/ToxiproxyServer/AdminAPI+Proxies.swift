import HTTPTypes
import Hummingbird
import ToxiproxyModel

extension AdminAPI {
    @Sendable func listProxies(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        for proxy in await self.registry.proxyList() {
            writer.key(proxy.name)
            proxy.writeJSON(to: &writer)
        }
        writer.endObject()
        return AdminResponse.json(writer.output)
    }

    @Sendable func createProxy(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let proxyRequest = try ProxyRequest.decode(try await self.readJSON(request))
        let proxy = try await self.registry.createProxy(proxyRequest)
        return AdminResponse.json(proxy.jsonString, status: .created)
    }

    @Sendable func getProxy(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let proxy = try await self.registry.proxy(named: try self.parameter("proxy", of: context))
        return AdminResponse.json(proxy.jsonString)
    }

    @Sendable func updateProxy(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try self.parameter("proxy", of: context)
        // The reference looks the proxy up before reading the body.
        _ = try await self.registry.proxy(named: name)
        let proxyRequest = try ProxyRequest.decode(try await self.readJSON(request))
        let proxy = try await self.registry.updateProxy(named: name, with: proxyRequest)
        return AdminResponse.json(proxy.jsonString)
    }

    @Sendable func deleteProxy(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await self.registry.deleteProxy(named: try self.parameter("proxy", of: context))
        return AdminResponse.noContent()
    }

    /// `/populate` answers with JSON even on failure, carrying the proxies applied before the failure.
    @Sendable func populate(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let requests: [ProxyRequest]
        do {
            requests = try ProxyRequest.decodeList(try await self.readJSON(request))
        } catch {
            return Self.populateResponse(proxies: [], error: error)
        }
        let (proxies, error) = await self.registry.populate(requests)
        return Self.populateResponse(proxies: proxies, error: error)
    }

    /// `proxies` is `null` when nothing was applied (Go encodes its nil slice so).
    private static func populateResponse(proxies: [Proxy], error: APIError?) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        if let error {
            writer.key("error")
            writer.string(error.message)
            writer.key("status")
            writer.int(Int64(error.status))
        }
        writer.key("proxies")
        if !proxies.isEmpty {
            writer.beginArray()
            for proxy in proxies {
                proxy.writeJSON(to: &writer)
            }
            writer.endArray()
        } else {
            writer.null()
        }
        writer.endObject()
        return AdminResponse.json(writer.output, status: .init(code: error?.status ?? 201))
    }
}
