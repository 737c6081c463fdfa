import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ToxiproxyModel

/// The Toxiproxy 2.12 admin API: same routes, status codes, bodies and quirks as the reference, so that
/// existing clients drive this server unchanged.
public struct AdminAPI: Sendable {
    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    /// Largest request body accepted; the reference has none, but an admin API facing a network needs one.
    public static let maximumBodySize = 1024 * 1024

    let registry: ProxyRegistry
    let scenarios: ScenarioRunner
    let logger: Logger

    /// - Parameter scenarios: the server's scenarios; a runner of its own when nil.
    public init(registry: ProxyRegistry, scenarios: ScenarioRunner? = nil, logger: Logger) {
        self.registry = registry
        self.scenarios =
            scenarios
            ?? ScenarioRunner(registry: registry, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        self.logger = logger
    }

    /// Every method that gets the reference's 405 on a known path and its 404 elsewhere.
    private static let knownMethods: [HTTPRequest.Method] = [
        .get, .head, .post, .put, .patch, .delete, .options, .trace, .connect,
    ]

    public func makeResponder() -> some HTTPResponder<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        self.route(router, "/version", [.get: self.version])
        self.route(router, "/proxies", [.get: self.listProxies, .post: self.createProxy])
        self.route(router, "/populate", [.post: self.populate])
        self.route(router, "/reset", [.post: self.reset])
        self.route(
            router,
            "/proxies/:proxy",
            [.get: self.getProxy, .post: self.updateProxy, .patch: self.updateProxy, .delete: self.deleteProxy]
        )
        self.route(router, "/proxies/:proxy/toxics", [.get: self.listToxics, .post: self.createToxic])
        self.route(
            router,
            "/proxies/:proxy/toxics/:toxic",
            [.get: self.getToxic, .post: self.updateToxic, .patch: self.updateToxic, .delete: self.deleteToxic]
        )
        self.routeScenarios(router)
        // The reference registers /metrics for every method, and only with a metrics flag.
        if self.registry.metrics.isEnabled {
            let everyMethod = Dictionary(uniqueKeysWithValues: Self.knownMethods.map { ($0, self.metrics) })
            self.route(router, "/metrics", everyMethod)
        }
        for method in Self.knownMethods {
            router.on("/", method: method) { _, _ in AdminResponse.pageNotFound() }
            router.on("**", method: method) { _, _ in AdminResponse.pageNotFound() }
        }
        return AdminResponder(router: router.buildResponder())
    }

    /// Registers `handlers` on `path` behind the reference's per-route middleware, and 405 for the rest.
    func route(
        _ router: Router<BasicRequestContext>,
        _ path: RouterPath,
        _ handlers: [HTTPRequest.Method: Handler]
    ) {
        for method in Self.knownMethods {
            if let handler = handlers[method] {
                router.on(path, method: method, use: self.matched(handler))
            } else {
                router.on(path, method: method) { _, _ in AdminResponse.methodNotAllowed() }
            }
        }
    }

    /// What the reference applies to matched routes only: the browser block and a request id.
    private func matched(_ handler: @escaping Handler) -> Handler {
        { [logger] request, context in
            let requestID = AdminResponse.makeRequestID()
            var response: Response
            if let agent = request.headers[.userAgent], agent.hasPrefix("Mozilla/") {
                response = AdminResponse.browserBlocked()
            } else {
                do {
                    response = try await handler(request, context)
                } catch let error as APIError {
                    response = AdminResponse.error(error)
                } catch {
                    response = AdminResponse.error(
                        APIError(code: .internalError, status: 500, message: "\(error)", cause: nil)
                    )
                }
            }
            logger.debug(
                "Handled request",
                metadata: [
                    "request_id": "\(requestID)", "method": "\(request.method)",
                    "path": "\(request.uri.path)", "status": "\(response.status.code)",
                ]
            )
            response.headers[AdminResponse.requestIDField] = requestID
            return response
        }
    }

    // MARK: Request helpers

    func readJSON(_ request: Request) async throws(APIError) -> JSONValue {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumBodySize)
        } catch is NIOTooManyBytesError {
            throw APIError(
                code: .badRequestBody,
                status: 413,
                message: "request body too large: the limit is \(Self.maximumBodySize) bytes",
                cause: nil
            )
        } catch {
            throw APIError.badRequestBody("\(error)")
        }
        do {
            return try JSONParser.parseFirstValue(body.readableBytesView)
        } catch {
            throw APIError.badRequestBody(error.message)
        }
    }

    func parameter(_ name: String, of context: BasicRequestContext) throws(APIError) -> String {
        guard let raw = context.parameters.get(name), let decoded = raw.removingPathPercentEncoding() else {
            throw name == "toxic" ? APIError.toxicNotFound : APIError.proxyNotFound
        }
        return decoded
    }

    // MARK: Server

    @Sendable func version(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json;charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"version\": \"\(ToxiproxyVersion.compatible)\"}\n"))
        )
    }

    @Sendable func metrics(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: ServerMetrics.contentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: self.registry.metrics.exposition()))
        )
    }

    @Sendable func reset(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try await self.registry.reset()
        return AdminResponse.noContent()
    }
}

/// Answers what the router cannot tell apart. gorilla/mux does not clean paths, so `/proxies/` is a 404; and
/// the trie does not fall back to `**` once it has followed a known prefix (`/version/x`), so its bare 404
/// gets the reference's body here.
struct AdminResponder<Wrapped: HTTPResponder<BasicRequestContext>>: HTTPResponder {
    let router: Wrapped

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let path = request.uri.path
        if path != "/" && (path.hasSuffix("/") || path.contains("//")) {
            return AdminResponse.pageNotFound()
        }
        let response = try await self.router.respond(to: request, context: context)
        // Every 404 of ours carries a content type; only the router's own "no route" lacks one. For a method
        // the router has no entries for at all (MOVE, PROPFIND…) on a known path, mux answers 405.
        if response.status == .notFound && response.headers[.contentType] == nil {
            return Self.isKnownPath(path) ? AdminResponse.methodNotAllowed() : AdminResponse.pageNotFound()
        }
        return response
    }

    /// Whether `path` is one of the admin API's route patterns, whatever the method.
    static func isKnownPath(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        switch (segments.count, segments.first) {
        case (1, "version"), (1, "proxies"), (1, "populate"), (1, "reset"): return true
        case (2, "proxies"): return true
        case (3, "proxies"), (4, "proxies"): return segments.dropFirst(2).first == "toxics"
        case (1, "scenarios"), (2, "scenarios"): return true
        case (3, "scenarios"):
            guard let last = segments.last else { return false }
            return ["stop", "heartbeat", "events", "report"].contains(String(last))
        default: return false
        }
    }
}
