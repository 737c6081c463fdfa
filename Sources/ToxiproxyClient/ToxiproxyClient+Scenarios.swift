import NIOHTTP1
import Scenarios
import ToxiproxyModel

extension ToxiproxyClient {
    /// Whether the server runs scenarios (ours does; the reference answers 404 on `/scenarios`).
    public func supportsScenarios() async throws(ToxiproxyClientError) -> Bool {
        fatalError("unimplemented")
    }

    /// Starts a scenario on the server; it runs there, on the server's clock, until it ends.
    public func startScenario(_ scenario: Scenario) async throws(ToxiproxyClientError) -> ScenarioStatus {
        fatalError("unimplemented")
    }

    /// Running scenarios and the last ended ones, newest first (without history).
    public func scenarios() async throws(ToxiproxyClientError) -> [ScenarioStatus] {
        fatalError("unimplemented")
    }

    public func scenario(id: String) async throws(ToxiproxyClientError) -> ScenarioStatus {
        fatalError("unimplemented")
    }

    /// Ends a scenario and waits for its restore; returns the final status.
    @discardableResult
    public func stopScenario(id: String) async throws(ToxiproxyClientError) -> ScenarioStatus {
        fatalError("unimplemented")
    }

    /// Renews the lease; returns how long until it expires.
    @discardableResult
    public func heartbeatScenario(id: String) async throws(ToxiproxyClientError) -> Duration {
        fatalError("unimplemented")
    }

    public func scenarioReport(id: String) async throws(ToxiproxyClientError) -> RecoveryReport {
        fatalError("unimplemented")
    }

    /// The scenario's events after `lastEventID` (0: from the start), as they happen; the sequence finishes
    /// after the `ended` event, and throws if the connection is lost (re-attach with the last id seen).
    public func scenarioEvents(
        id: String,
        after lastEventID: Int = 0
    ) -> AsyncThrowingStream<ScenarioEvent, any Error> {
        fatalError("unimplemented")
    }

    /// Starts `scenario`, keeps its lease alive while `body` runs, and stops it (restoring the proxies) when
    /// `body` returns, throws or is cancelled.
    public func withScenario<Result: Sendable>(
        _ scenario: Scenario,
        _ body: (ScenarioStatus) async throws -> Result
    ) async throws -> Result {
        fatalError("unimplemented")
    }
}
