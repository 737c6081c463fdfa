/// A failed admin API call: the server could not be reached, answered with an error, or answered with
/// something that is not Toxiproxy's API.
public struct ToxiproxyClientError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// No HTTP answer: connection refused, timed out, DNS failure.
        public static let unreachable = Code("unreachable")
        /// The server answered with an error status; `status` and `message` carry its answer.
        public static let server = Code("server")
        /// The answer was not what a Toxiproxy server sends.
        public static let invalidResponse = Code("invalidResponse")
        /// The admin URL itself is not usable.
        public static let invalidURL = Code("invalidURL")
    }

    public var code: Code
    /// The HTTP status, for `.server` errors.
    public var status: Int?
    /// The server's `error` text for `.server` errors, otherwise what went wrong.
    public var message: String
    /// The request that failed, as `METHOD URL`.
    public var request: String
    public var cause: (any Error & Sendable)?

    public init(code: Code, status: Int? = nil, message: String, request: String, cause: (any Error & Sendable)? = nil)
    {
        self.code = code
        self.status = status
        self.message = message
        self.request = request
        self.cause = cause
    }

    /// Whether the server said the proxy or toxic does not exist.
    public var isNotFound: Bool { self.status == 404 }
    /// Whether the server said the proxy or toxic already exists.
    public var isConflict: Bool { self.status == 409 }

    public var description: String {
        switch self.code {
        case .server: "\(self.request): HTTP \(self.status ?? 0): \(self.message)"
        default: "\(self.request): \(self.message)"
        }
    }
}
