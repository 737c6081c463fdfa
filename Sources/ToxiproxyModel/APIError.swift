/// An error returned by the HTTP API as `{"error":"<message>","status":<status>}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, independent of the wording; lets callers branch without comparing messages.
    public struct Code: Hashable, Sendable {
        private let rawValue: String

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        public static let badRequestBody = Code("badRequestBody")
        public static let missingField = Code("missingField")
        public static let invalidStream = Code("invalidStream")
        public static let invalidToxicType = Code("invalidToxicType")
        public static let invalidAttribute = Code("invalidAttribute")
        public static let proxyNotFound = Code("proxyNotFound")
        public static let toxicNotFound = Code("toxicNotFound")
        public static let proxyAlreadyExists = Code("proxyAlreadyExists")
        public static let toxicAlreadyExists = Code("toxicAlreadyExists")
        public static let listenFailed = Code("listenFailed")
        public static let internalError = Code("internalError")
        /// Scenarios (our additive `/scenarios` API): an invalid scenario, an unknown id, a proxy already in a
        /// running scenario or a scenario that cannot take the call, a server shutting down.
        public static let invalidScenario = Code("invalidScenario")
        public static let scenarioNotFound = Code("scenarioNotFound")
        public static let scenarioConflict = Code("scenarioConflict")
        public static let unavailable = Code("unavailable")
    }

    public var code: Code
    /// The HTTP status code.
    public var status: Int
    /// The text sent to the client in the `error` member.
    public var message: String
    /// The underlying error, for logging only; it is not sent and not compared.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, status: Int, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Compares code, status and message; `cause` is diagnostic only.
    public static func == (lhs: APIError, rhs: APIError) -> Bool {
        lhs.code == rhs.code && lhs.status == rhs.status && lhs.message == rhs.message
    }

    /// `{"error":"<message>","status":<status>}` without a trailing newline.
    public var jsonBody: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.string(message)
        writer.key("status")
        writer.int(Int64(status))
        writer.endObject()
        return writer.output
    }

    // MARK: - The reference server's errors

    /// 404 `proxy not found`.
    public static let proxyNotFound = APIError(code: .proxyNotFound, status: 404, message: "proxy not found")

    /// 404 `toxic not found`.
    public static let toxicNotFound = APIError(code: .toxicNotFound, status: 404, message: "toxic not found")

    /// 409 `proxy already exists`.
    public static let proxyAlreadyExists = APIError(
        code: .proxyAlreadyExists,
        status: 409,
        message: "proxy already exists"
    )

    /// 409 `toxic already exists`.
    public static let toxicAlreadyExists = APIError(
        code: .toxicAlreadyExists,
        status: 409,
        message: "toxic already exists"
    )

    /// 400 `stream was invalid, can be either upstream or downstream`.
    public static let invalidStream = APIError(
        code: .invalidStream,
        status: 400,
        message: "stream was invalid, can be either upstream or downstream"
    )

    /// 400 `invalid toxic type`.
    public static let invalidToxicType = APIError(code: .invalidToxicType, status: 400, message: "invalid toxic type")

    /// 400 `bad request body: <detail>`, where `detail` is a Go decoder error text.
    public static func badRequestBody(_ detail: String) -> APIError {
        APIError(code: .badRequestBody, status: 400, message: "bad request body: " + detail)
    }

    /// 400 `missing required field: <field>`, with ` at proxy <N>` (1-based) for `/populate` entries.
    public static func missingField(_ field: String, proxyIndex: Int? = nil) -> APIError {
        var message = "missing required field: " + field
        if let proxyIndex {
            message += " at proxy \(proxyIndex)"
        }
        return APIError(code: .missingField, status: 400, message: message)
    }

    /// 400 with `message` as given; for values the reference server would accept and then crash on.
    public static func invalidAttribute(_ message: String) -> APIError {
        APIError(code: .invalidAttribute, status: 400, message: message)
    }

    /// 500 with the OS/network error text, e.g. `listen tcp 127.0.0.1:3310: bind: address already in use`.
    public static func listenFailed(_ message: String, cause: (any Error & Sendable)? = nil) -> APIError {
        APIError(code: .listenFailed, status: 500, message: message, cause: cause)
    }

    /// 500 for unexpected failures; the reference server says `internal server error`.
    public static func internalError(
        _ message: String = "internal server error",
        cause: (any Error & Sendable)? = nil
    ) -> APIError {
        APIError(code: .internalError, status: 500, message: message, cause: cause)
    }
}
