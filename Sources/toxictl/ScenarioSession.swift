import ArgumentParser
import Foundation
import Scenarios
import ToxiproxyClient
import UnixSignals

/// What `scenario run`, `scenario attach` and `flap` share: starting a scenario, staying attached to it to its
/// end, and stopping it on SIGINT/SIGTERM when this process holds its lease.
struct ScenarioSession: Sendable {
    var target: TargetOptions
    /// Notices (a lost connection) go to standard error when standard output is JSON.
    var json: Bool

    /// How an attached session ended.
    enum Outcome: Sendable {
        /// The scenario ended on the server; its final status, and its report when it could be fetched.
        case ended(ScenarioStatus, RecoveryReport?)
        /// A signal came. `stopped` is the final status after this process stopped it, `stopError` why that
        /// failed; both nil when it was left running (a scenario without a lease only watched).
        case signalled(UnixSignal, stopped: ScenarioStatus?, stopError: (any Error)?)
        /// Following failed; `stopError` is set when stopping it afterwards failed too.
        case failed(any Error, stopError: (any Error)?)
    }

    func notice(_ text: String) {
        if self.json { Console.error(text) } else { Console.line(text) }
    }

    /// A client error as an operator reads it.
    func describe(_ error: any Error) -> String {
        guard let error = error as? ToxiproxyClientError else { return "\(error)" }
        if error.code == .server, error.status == 404, error.request.contains("/scenarios/") {
            return "the server knows no such scenario (`toxictl scenario list\(self.target.repeatedArguments)` shows "
                + "the running ones and the last 50 ended)"
        }
        return CLIError(error, proxy: self.target.proxy, target: self.target.jsonTarget).message
    }

    /// One scenario call of `toxictl scenario …` on the target's server: refused, saying why, by a server without
    /// scenarios; a failed call becomes the message an operator reads.
    func call<Result: Sendable>(
        _ body: @Sendable (ToxiproxyClient) async throws(ToxiproxyClientError) -> Result
    ) async throws -> Result {
        try await self.target.withClient { client in
            try await Self.requireScenarios(client, for: "toxictl scenario")
            do throws(ToxiproxyClientError) {
                return try await body(client)
            } catch {
                throw CLIError(self.describe(error))
            }
        }
    }

    /// Throws unless the server runs scenarios (swift-toxiproxy's does; Shopify's Toxiproxy does not).
    static func requireScenarios(_ client: ToxiproxyClient, for what: String) async throws {
        let supported: Bool
        do throws(ToxiproxyClientError) {
            supported = try await client.supportsScenarios()
        } catch {
            throw CLIError(error, proxy: "", target: client.baseURL)
        }
        guard supported else {
            throw CLIError(
                "\(what) needs swift-toxiproxy's server, which runs scenarios itself (`toxictl serve`, or the image "
                    + "`toxictl enable` installs); the server at \(client.baseURL) has none (Shopify's Toxiproxy, or an "
                    + "older swift-toxiproxy). Nothing was changed."
            )
        }
    }

    /// Starts `scenario`, turning the server's refusals into messages that name what to fix. A 400 (the server
    /// judged a field invalid) exits 64, as a local validation error does.
    static func start(_ scenario: Scenario, on client: ToxiproxyClient, source: String) async throws -> ScenarioStatus {
        do throws(ToxiproxyClientError) {
            return try await client.startScenario(scenario)
        } catch  where error.code == .server && error.status == 400 {
            Console.error("error: \(source): the server refused it: \(error.message)")
            throw ExitCode(64)
        } catch  where error.code == .server && error.status == 409 {
            throw CLIError(
                "\(error.message). Stop the scenario that holds the proxy first (`toxictl scenario list` shows it), "
                    + "or wait for it to end."
            )
        } catch  where error.code == .server && error.status == 404 {
            let marker = "proxy not found: "
            guard let range = error.message.range(of: marker) else {
                throw CLIError("\(source): the server refused it: \(error.message)")
            }
            let name = error.message[range.upperBound...]
            throw CLIError(
                "proxy \"\(name)\" does not exist on \(client.baseURL): run `toxictl enable` first, or name another "
                    + "(the server: \(error.message))"
            )
        } catch {
            throw CLIError(error, proxy: scenario.proxies.first ?? "", target: client.baseURL)
        }
    }

    /// Follows `status` from event `after` to its end, printing each event through `onEvent`, renewing its
    /// lease when `holdsLease`. A signal stops the scenario when `holdsLease` (the server restores the proxies)
    /// and only detaches otherwise. The final status and the report are fetched over the same connection.
    func attach(
        to status: ScenarioStatus,
        after: Int,
        holdsLease: Bool,
        control: SignalControl,
        onEvent: @escaping @Sendable (ScenarioEvent) -> Void
    ) async -> Outcome {
        let follower = ScenarioFollower(
            target: self.target,
            id: status.id,
            heartbeatInterval: holdsLease ? ScenarioFollower.heartbeatInterval(graceMs: status.leaseGraceMs) : nil,
            onReconnect: { [self] count in
                self.notice(
                    "\(Console.timestamp())  "
                        + (self.target.isCluster
                            ? "the port-forward was lost" : "the connection to the server was lost")
                        + "; re-opening it (\(count) of \(ScenarioFollower.maximumReopenings); the scenario keeps "
                        + "running on the server meanwhile)"
                )
            }
        )
        let id = status.id
        let result = await control.cancellable {
            try await follower.follow(after: after, onEvent: onEvent) { client, _ in
                let final = try await client.scenario(id: id)
                let report = try? await client.scenarioReport(id: id)
                return (final, report)
            }
        }
        if let signal = control.signal {
            guard holdsLease else { return .signalled(signal, stopped: nil, stopError: nil) }
            do {
                let stopped = try await self.stop(id: id)
                return .signalled(signal, stopped: stopped, stopError: nil)
            } catch {
                return .signalled(signal, stopped: nil, stopError: error)
            }
        }
        switch result {
        case .success(let (final, report)):
            return .ended(final, report)
        case .failure(let error):
            guard holdsLease else { return .failed(error, stopError: nil) }
            do {
                _ = try await self.stop(id: id)
                return .failed(error, stopError: nil)
            } catch let stopError {
                return .failed(error, stopError: stopError)
            }
        }
    }

    /// Stops scenario `id` and waits for its restore; returns the final status.
    func stop(id: String) async throws -> ScenarioStatus {
        try await self.target.withClient { client in
            try await client.stopScenario(id: id)
        }
    }

    /// What to say after a failed stop: the lease still ends the scenario.
    static func leaseFallback(_ status: ScenarioStatus) -> String {
        guard let grace = status.leaseGraceMs else {
            return
                "it has no lease: it runs until its bound (\(ScenarioPrinter.duration(milliseconds: status.boundMs)) "
                + "from its start), then the server restores the proxies"
        }
        return "its lease ends it within \(ScenarioPrinter.duration(milliseconds: grace)) of the last heartbeat, and "
            + "the server restores the proxies then"
    }
}
