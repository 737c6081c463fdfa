import HTTPTypes
import Hummingbird
import NIOCore
import Scenarios
import ToxiproxyModel

/// `/scenarios`: additive routes of ours (docs/scenarios.md), which no Toxiproxy client ever calls.
extension AdminAPI {
    static let lastEventIDField = HTTPField.Name("Last-Event-ID")!

    func routeScenarios(_ router: Router<BasicRequestContext>) {
        self.route(router, "/scenarios", [.get: self.listScenarios, .post: self.createScenario])
        self.route(router, "/scenarios/:scenario", [.get: self.getScenario])
        self.route(router, "/scenarios/:scenario/stop", [.post: self.stopScenario])
        self.route(router, "/scenarios/:scenario/heartbeat", [.post: self.heartbeatScenario])
        self.route(router, "/scenarios/:scenario/events", [.get: self.scenarioEvents])
        self.route(router, "/scenarios/:scenario/report", [.get: self.scenarioReport])
    }

    @Sendable func createScenario(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let run = try await self.scenarios.create(try await self.readJSON(request))
        return AdminResponse.json(run.status(withHistory: true).jsonValue.text, status: .created)
    }

    @Sendable func listScenarios(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let runs = await self.scenarios.list()
        let list = JSONValue.object(
            JSONObject([(key: "scenarios", value: .array(runs.map { $0.status(withHistory: false).jsonValue }))])
        )
        return AdminResponse.json(list.text)
    }

    @Sendable func getScenario(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let run = try await self.scenario(context)
        return AdminResponse.json(run.status(withHistory: true).jsonValue.text)
    }

    /// Ends it and restores, then answers its final status; an ended one answers its status unchanged.
    @Sendable func stopScenario(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let run = try await self.scenario(context)
        await run.stop(.stopped)
        return AdminResponse.json(run.status(withHistory: true).jsonValue.text)
    }

    @Sendable func heartbeatScenario(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let run = try await self.scenario(context)
        guard let left = run.heartbeat() else {
            let reason = run.isRunning ? "scenario \(run.id) has no lease" : "scenario \(run.id) has ended"
            throw APIError(code: .scenarioConflict, status: 409, message: reason)
        }
        let body = JSONValue.object(
            JSONObject([(key: "lease_expires_in_ms", value: .milliseconds(left.fractionalMilliseconds))])
        )
        return AdminResponse.json(body.text)
    }

    @Sendable func scenarioReport(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let run = try await self.scenario(context)
        return AdminResponse.json(run.report().jsonValue.text)
    }

    /// Server-sent events: the replay (all, or after `Last-Event-ID`), then each new event as it happens and a
    /// keep-alive comment while none does; the response ends after `ended`.
    @Sendable func scenarioEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let run = try await self.scenario(context)
        let lastID = request.headers[Self.lastEventIDField].flatMap { Int($0.filter { $0 != " " }) } ?? 0
        let items = run.subscribe(after: lastID)
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for await item in items {
                    switch item {
                    case .event(let event):
                        try await writer.write(ByteBuffer(string: event.sseFrame))
                    case .keepAlive:
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                try await writer.finish(nil)
            }
        )
    }

    private func scenario(_ context: BasicRequestContext) async throws(APIError) -> ScenarioRun {
        guard let raw = context.parameters.get("scenario"), let id = raw.removingPathPercentEncoding() else {
            throw APIError(code: .scenarioNotFound, status: 404, message: "scenario not found")
        }
        return try await self.scenarios.run(id: id)
    }
}
