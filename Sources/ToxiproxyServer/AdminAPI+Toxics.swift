import HTTPTypes
import Hummingbird
import ToxiproxyModel

extension AdminAPI {
    @Sendable func listToxics(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let toxics = try await self.registry.toxics(ofProxy: try self.parameter("proxy", of: context))
        var writer = JSONWriter()
        writer.beginArray()
        for toxic in toxics {
            toxic.writeJSON(to: &writer)
        }
        writer.endArray()
        return AdminResponse.json(writer.output)
    }

    /// Toxic creation answers 200, not 201, as the reference does.
    @Sendable func createToxic(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let proxyName = try self.parameter("proxy", of: context)
        _ = try await self.registry.proxy(named: proxyName)
        let toxicRequest = try ToxicRequest.decode(try await self.readJSON(request))
        let toxic = try await self.registry.addToxic(toxicRequest, toProxy: proxyName)
        return AdminResponse.json(toxic.jsonString)
    }

    @Sendable func getToxic(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let proxyName = try self.parameter("proxy", of: context)
        let toxicName = try self.parameter("toxic", of: context)
        let toxic = try await self.registry.toxic(named: toxicName, ofProxy: proxyName)
        return AdminResponse.json(toxic.jsonString)
    }

    @Sendable func updateToxic(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let proxyName = try self.parameter("proxy", of: context)
        let toxicName = try self.parameter("toxic", of: context)
        _ = try await self.registry.toxic(named: toxicName, ofProxy: proxyName)
        let body = try await self.readJSON(request)
        let toxic = try await self.registry.updateToxic(named: toxicName, ofProxy: proxyName, with: body)
        return AdminResponse.json(toxic.jsonString)
    }

    @Sendable func deleteToxic(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let proxyName = try self.parameter("proxy", of: context)
        let toxicName = try self.parameter("toxic", of: context)
        try await self.registry.removeToxic(named: toxicName, fromProxy: proxyName)
        return AdminResponse.noContent()
    }
}
