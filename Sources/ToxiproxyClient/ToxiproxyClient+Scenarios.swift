import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Scenarios
import ToxiproxyModel

extension ToxiproxyClient {
    /// Who answers the scenario calls, for decoding errors.
    static let scenarioServer = "a swift-toxiproxy scenario server"

    /// Whether the server runs scenarios (ours does; the reference answers 404 on `/scenarios`).
    public func supportsScenarios() async throws(ToxiproxyClientError) -> Bool {
        do throws(ToxiproxyClientError) {
            _ = try await self.send(.GET, "/scenarios")
            return true
        } catch {
            if error.isNotFound { return false }
            throw error
        }
    }

    /// Starts a scenario on the server; it runs there, on the server's clock, until it ends.
    public func startScenario(_ scenario: Scenario) async throws(ToxiproxyClientError) -> ScenarioStatus {
        let (_, body) = try await self.send(.POST, "/scenarios", body: scenario.jsonText)
        return try self.decode(body, request: "POST \(self.baseURL)/scenarios", sender: Self.scenarioServer) {
            value throws(ScenarioError) in try ScenarioStatus(json: value)
        }
    }

    /// Running scenarios and the last ended ones, newest first (without history).
    public func scenarios() async throws(ToxiproxyClientError) -> [ScenarioStatus] {
        let (_, body) = try await self.send(.GET, "/scenarios")
        return try self.decode(body, request: "GET \(self.baseURL)/scenarios", sender: Self.scenarioServer) {
            value throws(ScenarioError) -> [ScenarioStatus] in
            guard case .object(let object) = value, case .array(let elements)? = object.value(forKey: "scenarios")
            else {
                throw ScenarioError.invalid("scenarios", "expected {\"scenarios\": [...]}")
            }
            return try elements.map { element throws(ScenarioError) in try ScenarioStatus(json: element) }
        }
    }

    public func scenario(id: String) async throws(ToxiproxyClientError) -> ScenarioStatus {
        let path = "/scenarios/\(id.pathEscaped)"
        let (_, body) = try await self.send(.GET, path)
        return try self.decode(body, request: "GET \(self.baseURL)\(path)", sender: Self.scenarioServer) {
            value throws(ScenarioError) in try ScenarioStatus(json: value)
        }
    }

    /// Ends a scenario and waits for its restore; returns the final status.
    @discardableResult
    public func stopScenario(id: String) async throws(ToxiproxyClientError) -> ScenarioStatus {
        let path = "/scenarios/\(id.pathEscaped)/stop"
        let (_, body) = try await self.send(.POST, path, body: "")
        return try self.decode(body, request: "POST \(self.baseURL)\(path)", sender: Self.scenarioServer) {
            value throws(ScenarioError) in try ScenarioStatus(json: value)
        }
    }

    /// Renews the lease; returns how long until it expires.
    @discardableResult
    public func heartbeatScenario(id: String) async throws(ToxiproxyClientError) -> Duration {
        let path = "/scenarios/\(id.pathEscaped)/heartbeat"
        let (_, body) = try await self.send(.POST, path, body: "")
        return try self.decode(body, request: "POST \(self.baseURL)\(path)", sender: Self.scenarioServer) {
            value throws(ScenarioError) -> Duration in
            guard case .object(let object) = value,
                case .number(let text)? = object.value(forKey: "lease_expires_in_ms"),
                let milliseconds = Double(text), milliseconds >= 0
            else {
                throw ScenarioError.invalid("lease_expires_in_ms", "expected a number of milliseconds >= 0")
            }
            return .milliseconds(milliseconds)
        }
    }

    public func scenarioReport(id: String) async throws(ToxiproxyClientError) -> RecoveryReport {
        let path = "/scenarios/\(id.pathEscaped)/report"
        let (_, body) = try await self.send(.GET, path)
        return try self.decode(body, request: "GET \(self.baseURL)\(path)", sender: Self.scenarioServer) {
            value throws(ScenarioError) in try RecoveryReport(json: value)
        }
    }

    /// The scenario's events after `lastEventID` (0: from the start), as they happen; the sequence finishes
    /// after the `ended` event, and throws if the connection is lost (re-attach with the last id seen).
    public func scenarioEvents(
        id: String,
        after lastEventID: Int = 0
    ) -> AsyncThrowingStream<ScenarioEvent, any Error> {
        let (events, continuation) = AsyncThrowingStream.makeStream(of: ScenarioEvent.self)
        let url = self.baseURL + "/scenarios/\(id.pathEscaped)/events"
        let follower = Task {
            do {
                try await Self.followEvents(url: url, after: lastEventID, into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in follower.cancel() }
        return events
    }

    /// Starts `scenario`, keeps its lease alive while `body` runs, and stops it (restoring the proxies) when
    /// `body` returns, throws or is cancelled.
    public func withScenario<Result: Sendable>(
        _ scenario: Scenario,
        _ body: (ScenarioStatus) async throws -> Result
    ) async throws -> Result {
        let status = try await self.startScenario(scenario)
        let outcome: Swift.Result<Result, any Error> = await withTaskGroup(of: Void.self) { group in
            if let graceMs = status.leaseGraceMs {
                group.addTask { await self.heartbeat(id: status.id, every: .milliseconds(graceMs / 3)) }
            }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await body(status))
            } catch {
                outcome = .failure(error)
            }
            group.cancelAll()
            return outcome
        }
        // The stop runs in a task of its own so that cancelling ours cannot skip the restore.
        let client = self
        let id = status.id
        let stop = await Task { try await client.stopScenario(id: id) }.result
        let value = try outcome.get()
        _ = try stop.get()
        return value
    }

    // MARK: Plumbing

    /// Renews the lease until cancelled. A failed renewal is retried at the next tick (the grace covers
    /// three of them); it stops once the server says the scenario has ended or is gone.
    private func heartbeat(id: String, every interval: Duration) async {
        while true {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do throws(ToxiproxyClientError) {
                try await self.heartbeatScenario(id: id)
            } catch {
                if error.isConflict || error.isNotFound { return }
            }
        }
    }

    /// Streams `GET url` over a connection of its own: requests sent meanwhile (heartbeats) must not queue
    /// behind a stream that lasts as long as the scenario.
    private static func followEvents(
        url: String,
        after lastEventID: Int,
        into continuation: AsyncThrowingStream<ScenarioEvent, any Error>.Continuation
    ) async throws {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(5)
        // The server sends a keep-alive comment every 10 s, so this silence means the connection is gone.
        configuration.timeout.read = .seconds(35)
        configuration.connectionPool.retryConnectionEstablishment = false
        try await HTTPClient.withHTTPClient(configuration: configuration) { httpClient in
            try await Self.followEvents(url: url, after: lastEventID, httpClient: httpClient, into: continuation)
        }
    }

    private static func followEvents(
        url: String,
        after firstID: Int,
        httpClient: HTTPClient,
        into continuation: AsyncThrowingStream<ScenarioEvent, any Error>.Continuation
    ) async throws(ToxiproxyClientError) {
        let description = "GET \(url)"
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "toxictl/\(ToxiproxyClientVersion.current)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        if firstID > 0 { request.headers.add(name: "Last-Event-ID", value: String(firstID)) }
        var lastID = firstID
        var parser = ScenarioEventParser()
        do {
            // No deadline: the stream lasts as long as the scenario.
            let response = try await httpClient.execute(request, deadline: .distantFuture)
            guard response.status == .ok else {
                let body = try await response.body.collect(upTo: 1024 * 1024)
                throw ToxiproxyClientError(
                    code: .server,
                    status: Int(response.status.code),
                    message: Self.serverMessage(in: String(buffer: body)),
                    request: description
                )
            }
            for try await buffer in response.body {
                let events: [ScenarioEvent]
                do {
                    events = try parser.feed(buffer.readableBytesView)
                } catch {
                    throw ToxiproxyClientError(
                        code: .invalidResponse,
                        message: "the event stream is not what \(Self.scenarioServer) sends (\(error))",
                        request: description
                    )
                }
                for event in events {
                    lastID = event.id
                    continuation.yield(event)
                    if event.kind == .ended { return }
                }
            }
        } catch let error as ToxiproxyClientError {
            throw error
        } catch {
            throw Self.lostStream(description: description, lastID: lastID, cause: error)
        }
        throw Self.lostStream(description: description, lastID: lastID, cause: nil)
    }

    private static func lostStream(
        description: String,
        lastID: Int,
        cause: (any Error)?
    ) -> ToxiproxyClientError {
        let reason = cause.map { Self.describe($0) } ?? "the server closed the stream"
        return ToxiproxyClientError(
            code: .unreachable,
            message: "the event stream was lost before the scenario ended (\(reason)); "
                + "re-attach with after: \(lastID)",
            request: description,
            cause: cause
        )
    }
}
