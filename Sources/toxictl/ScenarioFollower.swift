import NIOConcurrencyHelpers
import Scenarios
import ToxiproxyClient
import UnixSignals

/// Follows one scenario on the server to its end: its events as they happen and, when it has a lease, a
/// heartbeat every grace/3 beside them. The scenario runs on the server's clock whatever happens here; a lost
/// connection (a killed port-forward, a dropped keep-alive) is re-opened and following resumes after the last
/// event seen, so no event is missed or shown twice.
struct ScenarioFollower: Sendable {
    var target: TargetOptions
    var id: String
    /// How often to renew the lease; nil when there is none to renew.
    var heartbeatInterval: Duration?
    /// Told each time the connection was lost and is being re-opened (the count so far).
    var onReconnect: @Sendable (Int) -> Void

    /// How often a lost connection is re-opened in one run before toxictl gives up (the lease then ends the
    /// scenario on the server).
    static let maximumReopenings = 10

    /// The heartbeat interval for a lease of `graceMs`: a third of the grace, so two may be lost.
    static func heartbeatInterval(graceMs: Double?) -> Duration? {
        graceMs.map { .milliseconds(Int64(($0 / 3).rounded(.down))) }
    }

    /// Follows the events after `lastEventID` until the `ended` one, calling `onEvent` for each, then calls
    /// `atEnd` with a client over the same connection (to fetch the final status and the report without
    /// opening another port-forward). Cancellation stops following at once, and throws `CancellationError`.
    func follow<Result: Sendable>(
        after lastEventID: Int,
        onEvent: @Sendable (ScenarioEvent) -> Void,
        atEnd: @Sendable (ToxiproxyClient, ScenarioEvent) async throws -> Result
    ) async throws -> Result {
        var lastID = lastEventID
        var ended: ScenarioEvent?
        var reopenings = 0
        while true {
            do {
                return try await self.target.withAdminBaseURL { baseURL in
                    // Two clients, so that heartbeats never wait behind the long-lived stream of events.
                    try await ToxiproxyClient.withClient(baseURL: baseURL) { events in
                        try await ToxiproxyClient.withClient(baseURL: baseURL) { calls in
                            try await self.followOnce(
                                events: events,
                                calls: calls,
                                lastID: &lastID,
                                ended: &ended,
                                onEvent: onEvent,
                                atEnd: atEnd
                            )
                        }
                    }
                }
            } catch let error as ToxiproxyClientError where error.code == .unreachable && !Task.isCancelled {
                reopenings += 1
                guard reopenings <= Self.maximumReopenings else { throw error }
                self.onReconnect(reopenings)
                // A forward that died with its pod needs a moment before another pod is ready.
                try await Task.sleep(for: .milliseconds(200 * reopenings))
            }
        }
    }

    private func followOnce<Result: Sendable>(
        events: ToxiproxyClient,
        calls: ToxiproxyClient,
        lastID: inout Int,
        ended: inout ScenarioEvent?,
        onEvent: (ScenarioEvent) -> Void,
        atEnd: (ToxiproxyClient, ScenarioEvent) async throws -> Result
    ) async throws -> Result {
        if let ended { return try await atEnd(calls, ended) }
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            if let interval = self.heartbeatInterval {
                let id = self.id
                group.addTask { await Self.heartbeat(calls, id: id, every: interval) }
            }
            defer { group.cancelAll() }
            // Streams that end without `ended` and bring nothing new, in a row, while the server answers.
            var fruitless = 0
            while true {
                let before = lastID
                var streamError: (any Error)?
                do {
                    for try await event in events.scenarioEvents(id: self.id, after: lastID) {
                        guard event.id > lastID else { continue }
                        lastID = event.id
                        onEvent(event)
                        if event.kind == .ended {
                            ended = event
                            return try await atEnd(calls, event)
                        }
                    }
                } catch {
                    streamError = error
                }
                try Task.checkCancellation()
                // The stream ended early. Whether the server is still there decides: a status call on the
                // other connection throws `unreachable` when the connection (or the port-forward) is gone, and
                // the caller opens another; otherwise the stream is simply opened again.
                _ = try await calls.scenario(id: self.id)
                fruitless = lastID == before ? fruitless + 1 : 0
                if fruitless >= 3 {
                    throw CLIError(
                        "the events of scenario \(self.id) stopped before it ended"
                            + (streamError.map { ": \($0)" } ?? " (the server closed the stream)")
                    )
                }
            }
        }
    }

    /// Renews the lease until cancelled or the server says there is none to renew (it has ended). Failures
    /// are left to the events stream, which notices a lost connection first.
    private static func heartbeat(_ client: ToxiproxyClient, id: String, every interval: Duration) async {
        while !Task.isCancelled {
            do throws(ToxiproxyClientError) {
                try await client.heartbeatScenario(id: id)
            } catch  where error.status == 409 || error.status == 404 {
                return
            } catch {
                // Another try at the next tick; a lost connection is re-opened by the follower.
            }
            try? await Task.sleep(for: interval)
        }
    }
}

/// Where a signal meets the work it interrupts: the watcher records the first SIGINT/SIGTERM and cancels the
/// work running then; work registered after a signal is cancelled at once.
final class SignalControl: Sendable {
    private struct State {
        var signal: UnixSignal?
        var cancel: (@Sendable () -> Void)?
    }

    private let state = NIOLockedValueBox(State())
    private let watcher = NIOLockedValueBox<Task<Void, Never>?>(nil)

    var signal: UnixSignal? { self.state.withLockedValue { $0.signal } }

    /// Traps SIGINT and SIGTERM from now on (instead of dying of them) until `stop()`.
    static func trapping() async -> SignalControl {
        let control = SignalControl()
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let task = Task {
            for await signal in signals {
                control.signalled(signal)
            }
        }
        control.watcher.withLockedValue { $0 = task }
        return control
    }

    func stop() {
        self.watcher.withLockedValue { $0?.cancel() }
    }

    func signalled(_ signal: UnixSignal) {
        let cancel = self.state.withLockedValue { state -> (@Sendable () -> Void)? in
            state.signal = state.signal ?? signal
            return state.cancel
        }
        cancel?()
    }

    /// Runs `work` in a task that the first signal cancels; returns its result.
    func cancellable<Result: Sendable>(
        _ work: @escaping @Sendable () async throws -> Result
    ) async -> Swift.Result<Result, any Error> {
        let task = Task { try await work() }
        let cancelNow = self.state.withLockedValue { state -> Bool in
            state.cancel = { task.cancel() }
            return state.signal != nil
        }
        if cancelNow { task.cancel() }
        let result = await task.result
        self.state.withLockedValue { $0.cancel = nil }
        return result
    }
}

extension UnixSignal {
    /// 128 + N, the exit status of a process stopped by the signal after cleaning up.
    var exitStatus: Int32 { 128 + self.rawValue }
}
