import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ToxiproxyModel

/// An async client for any Toxiproxy 2.x admin API (2.6 and later): this project's server or the reference.
///
/// It uses only the public API and tolerates the reference's quirks (a `/version` body that is not JSON in
/// 2.6, toxic creation answering 200). Requests go over one keep-alive connection where the server allows it.
public struct ToxiproxyClient: Sendable {
    /// The admin URL without a trailing slash, e.g. `http://127.0.0.1:8474`.
    public let baseURL: String
    private let httpClient: HTTPClient
    private let timeout: TimeAmount

    /// - Parameters:
    ///   - baseURL: `http://host:port`; a URL without a scheme gets `http://`, as `toxiproxy-cli` does it.
    ///   - timeout: the deadline of each request.
    public init(
        baseURL: String,
        httpClient: HTTPClient,
        timeout: TimeAmount = .seconds(30)
    ) throws(ToxiproxyClientError) {
        self.baseURL = try Self.normalise(baseURL)
        self.httpClient = httpClient
        self.timeout = timeout
    }

    /// Runs `body` with a client that owns its HTTP connection pool for the call's duration.
    public static func withClient<Result: Sendable>(
        baseURL: String,
        timeout: TimeAmount = .seconds(30),
        _ body: (ToxiproxyClient) async throws -> Result
    ) async throws -> Result {
        let url = try Self.normalise(baseURL)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1
        configuration.timeout.connect = .seconds(5)
        // A refused connection is an answer ("no server there"), not something to retry until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return try await HTTPClient.withHTTPClient(configuration: configuration) { httpClient in
            try await body(try ToxiproxyClient(baseURL: url, httpClient: httpClient, timeout: timeout))
        }
    }

    /// The admin URL as requests use it: `http://` added when there is no scheme, no trailing slash.
    public static func normalise(_ url: String) throws(ToxiproxyClientError) -> String {
        var url = url
        if url.firstRange(of: "://") == nil { url = "http://" + url }
        while url.hasSuffix("/") { url.removeLast() }
        let invalid = ToxiproxyClientError(
            code: .invalidURL,
            message: "\"\(url)\" is not an http:// or https:// admin URL with a host",
            request: url
        )
        guard let separator = url.firstRange(of: "://") else { throw invalid }
        let scheme = url[..<separator.lowerBound]
        let authority = url[separator.upperBound...].prefix { $0 != "/" }
        guard scheme == "http" || scheme == "https", !authority.isEmpty, !authority.hasPrefix(":") else {
            throw invalid
        }
        return url
    }

    // MARK: Server

    /// The server's version string (`2.12.0`); plain-text bodies of older servers are accepted as they are.
    public func version() async throws(ToxiproxyClientError) -> String {
        let (_, body) = try await self.send(.GET, "/version")
        if case .object(let object)? = try? JSONParser.parseFirstValue(Array(body.utf8)),
            case .string(let version)? = object.value(forKey: "version")
        {
            return version
        }
        return body.trimmingTrailing("\n").trimmingTrailing(" ")
    }

    /// Re-enables every proxy and removes every toxic.
    public func reset() async throws(ToxiproxyClientError) {
        _ = try await self.send(.POST, "/reset", body: "")
    }

    // MARK: Plumbing

    /// Sends a request and returns the status and body of a successful answer; error statuses throw with the
    /// server's message.
    func send(
        _ method: HTTPMethod,
        _ path: String,
        body: String? = nil
    ) async throws(ToxiproxyClientError) -> (status: Int, body: String) {
        let url = self.baseURL + path
        let description = "\(method.rawValue) \(url)"
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "toxictl/\(ToxiproxyClientVersion.current)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let status: Int
        let text: String
        do {
            let response = try await self.httpClient.execute(request, timeout: self.timeout)
            status = Int(response.status.code)
            let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
            text = String(buffer: buffer)
        } catch {
            throw ToxiproxyClientError(
                code: .unreachable,
                message: "cannot reach the Toxiproxy admin API at \(self.baseURL): \(Self.describe(error))",
                request: description,
                cause: error
            )
        }
        guard (200..<300).contains(status) else {
            throw ToxiproxyClientError(
                code: .server,
                status: status,
                message: Self.serverMessage(in: text),
                request: description
            )
        }
        return (status, text)
    }

    /// Parses a successful JSON body.
    func json(_ body: String, request: String) throws(ToxiproxyClientError) -> JSONValue {
        do {
            return try JSONParser.parseFirstValue(Array(body.utf8))
        } catch {
            throw ToxiproxyClientError(
                code: .invalidResponse,
                message: "the answer is not JSON (\(error.message)); is this a Toxiproxy admin API?",
                request: request
            )
        }
    }

    /// Parses a successful JSON body and decodes it; a body that does not decode is an `invalidResponse` that
    /// names what should have sent it (`sender`).
    func decode<T, Failure: Error & CustomStringConvertible>(
        _ body: String,
        request: String,
        sender: String = "a Toxiproxy admin API",
        _ decode: (JSONValue) throws(Failure) -> T
    ) throws(ToxiproxyClientError) -> T {
        let value = try self.json(body, request: request)
        do {
            return try decode(value)
        } catch {
            throw ToxiproxyClientError(
                code: .invalidResponse,
                message: "the answer is not what \(sender) sends (\(error.description))",
                request: request
            )
        }
    }

    /// `{"error": "...", "status": N}` when the server sent that, else the body's text.
    static func serverMessage(in body: String) -> String {
        if case .object(let object)? = try? JSONParser.parseFirstValue(Array(body.utf8)),
            case .string(let message)? = object.value(forKey: "error")
        {
            return message
        }
        let trimmed = body.trimmingTrailing("\n")
        return trimmed.isEmpty ? "(empty body)" : trimmed
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connection timed out"
            case .deadlineExceeded: return "no answer before the deadline"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return Self.describe(first.error)
        }
        if let error = error as? IOError, error.errnoCode == 111 {
            return "connection refused"
        }
        return "\(error)"
    }
}

extension String {
    func trimmingTrailing(_ suffix: String) -> String {
        var text = self
        while !suffix.isEmpty, text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}

/// The version the client reports in its User-Agent.
public enum ToxiproxyClientVersion {
    public static let current = "0.1.0"
}
