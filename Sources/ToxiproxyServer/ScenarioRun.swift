import Logging
import NIOConcurrencyHelpers
import NIOCore
import Scenarios
import ToxiproxyModel

/// One scenario as the server runs it: its engine, the changes it made, its events and its report figures.
///
/// Everything that changes proxies (start, each phase, the restore) runs in order in one driver task fed by a
/// command stream, so a stop never lands in the middle of a phase switch. Reads (status, report, event
/// replay) and heartbeats only take the lock, so they answer at once even while a phase is being applied.
final class ScenarioRun: Sendable {
    enum StreamItem: Sendable {
        case event(ScenarioEvent)
        case keepAlive
    }

    private enum Command: Sendable {
        case start(CheckedContinuation<Void, Never>)
        case wake
        case stop(EndReason, CheckedContinuation<Void, Never>)
    }

    /// The activity counters when a phase was applied, and when the next one (or the end) replaced it.
    private struct PhaseCounts {
        var start: ActivityCounts
        var end: ActivityCounts?
    }

    /// An impaired → healthy switch; `open` while its probes are armed.
    private struct TransitionRecord {
        var fromPhase: Int
        var toPhase: Int
        /// When the healthy phase was applied, on `ScenarioClock`.
        var at: Duration
        var firstConnection: Duration?
        var recovery: Duration?
        var open: Bool
    }

    private struct State {
        var engine: ScenarioEngine
        var runState = ScenarioStatus.RunState.running
        var endReason: EndReason?
        var endedAt: Duration?
        var events: [ScenarioEvent] = []
        var subscribers: [Int: AsyncStream<StreamItem>.Continuation] = [:]
        var nextSubscriber = 0
        /// What the scenario last set on each proxy (the restore checks it is still so).
        var applied: [String: ProxyState] = [:]
        /// One per applied phase, in the order of `engine.history`.
        var phaseCounts: [PhaseCounts] = []
        var transitions: [TransitionRecord] = []
        var kept: [KeptChange] = []
        var restoreErrors: [String] = []
        var scheduledWake: (at: Duration, task: Scheduled<Void>)?
    }

    let id: String
    let plan: ScenarioPlan
    /// Wall-clock start, RFC 3339 UTC.
    let startedAt: String
    private let baseline: [Proxy]
    private let activities: [ProxyActivity]
    private let registry: ProxyRegistry
    private let eventLoop: any EventLoop
    private let logger: Logger
    private let keepAliveInterval: TimeAmount
    private let state: NIOLockedValueBox<State>
    private let commands: AsyncStream<Command>.Continuation

    /// - Parameters:
    ///   - baseline: the scenario's proxies as they were before it (what the restore brings back).
    ///   - activities: the counters of the scenario's proxies.
    ///   - eventLoop: where the phase wake-ups are scheduled.
    init(
        id: String,
        plan: ScenarioPlan,
        baseline: [Proxy],
        activities: [ProxyActivity],
        registry: ProxyRegistry,
        eventLoop: any EventLoop,
        keepAliveInterval: TimeAmount,
        logger: Logger
    ) {
        self.id = id
        self.plan = plan
        self.startedAt = wallClockTimestamp()
        self.baseline = baseline
        self.activities = activities
        self.registry = registry
        self.eventLoop = eventLoop
        self.keepAliveInterval = keepAliveInterval
        var logger = logger
        logger[metadataKey: "scenario"] = "\(id)"
        self.logger = logger
        self.state = NIOLockedValueBox(State(engine: ScenarioEngine(plan: plan)))
        let (stream, continuation) = AsyncStream.makeStream(of: Command.self)
        self.commands = continuation
        // The driver keeps the run alive until its end drains the command stream.
        Task { await self.drive(stream) }
    }

    var proxies: [String] { self.plan.scenario.proxies }

    /// Running until the restore is done.
    var isRunning: Bool { self.state.withLockedValue { $0.runState == .running } }

    // MARK: Commands

    /// Applies the first phase; returns once it is applied (or the scenario has failed and restored).
    func start() async {
        await withCheckedContinuation { continuation in
            if case .terminated = self.commands.yield(.start(continuation)) { continuation.resume() }
        }
    }

    /// Ends the scenario for `reason` and restores; returns once restored. Nothing happens to one that ended.
    func stop(_ reason: EndReason) async {
        await withCheckedContinuation { continuation in
            if case .terminated = self.commands.yield(.stop(reason, continuation)) { continuation.resume() }
        }
    }

    /// Renews the lease: the time left on it, or nil when the scenario has ended or has no lease.
    func heartbeat() -> Duration? {
        let now = ScenarioClock.now()
        return self.state.withLockedValue { state in
            guard state.runState == .running, state.engine.heartbeat(now: now),
                let expiry = state.engine.leaseExpiry
            else { return nil }
            return expiry - now
        }
    }

    // MARK: The driver

    private func drive(_ commands: AsyncStream<Command>) async {
        for await command in commands {
            switch command {
            case .start(let done):
                let now = ScenarioClock.now()
                let actions = self.state.withLockedValue { state in
                    let actions = state.engine.start(now: now)
                    self.emit(.started, now: now, in: &state)
                    return actions
                }
                await self.perform(actions)
                self.scheduleWake()
                done.resume()
            case .wake:
                let now = ScenarioClock.now()
                let actions = self.state.withLockedValue { state in
                    if let wake = state.scheduledWake, wake.at <= now { state.scheduledWake = nil }
                    return state.engine.advance(now: now)
                }
                await self.perform(actions)
                self.scheduleWake()
            case .stop(let reason, let done):
                let actions = self.state.withLockedValue { $0.engine.stop(now: ScenarioClock.now(), reason: reason) }
                await self.perform(actions)
                done.resume()
            }
        }
    }

    private func perform(_ actions: [ScenarioEngine.Action]) async {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .apply(let phase, let lateness, let skipped):
                if !(await self.apply(phase, lateness: lateness, skipped: skipped)) {
                    let now = ScenarioClock.now()
                    queue = self.state.withLockedValue { $0.engine.stop(now: now, reason: .failed) }[...]
                }
            case .restore(let reason):
                await self.restore(reason)
            }
        }
    }

    /// Brings the proxies to `phase`; false when a change failed (the error event is out).
    private func apply(_ phase: PlannedPhase, lateness: Duration, skipped: Int) async -> Bool {
        let startedAt: Duration = self.state.withLockedValue { state in
            let origin = state.engine.origin ?? ScenarioClock.now()
            let started = origin + (state.engine.history.last?.started ?? .zero)
            self.closePhase(in: &state)
            state.phaseCounts.append(PhaseCounts(start: self.totals()))
            // An impaired → healthy switch: the probes are armed before the healthy state is applied, so the
            // first client of a proxy that comes back from an outage cannot slip in before them.
            let history = state.engine.history
            if history.count >= 2, history[history.count - 2].impaired, !phase.impaired {
                for activity in self.activities { activity.arm() }
                state.transitions.append(
                    TransitionRecord(
                        fromPhase: history[history.count - 2].index,
                        toPhase: phase.index,
                        at: started,
                        open: true
                    )
                )
            }
            return started
        }
        let current = await self.registry.proxyList()
        let target = ChangePlan.phaseState(plan: self.plan, baseline: self.baseline, target: phase.states)
        let changes = ChangePlan.phaseChanges(plan: self.plan, current: current, target: target)
        var failure: (proxy: String, message: String)?
        // The plan skips a proxy that is gone; for the run that is a failure.
        if let missing = self.plan.scenario.proxies.first(where: { name in !current.contains { $0.name == name } }) {
            failure = (missing, "proxy \(missing): deleted during the scenario")
        }
        for change in changes where failure == nil {
            do throws(APIError) {
                try await self.registry.apply(change)
            } catch {
                failure = (change.proxy, "\(change): \(error.message)")
                break
            }
        }
        var partial: ProxyState?
        if let failure, let proxy = try? await self.registry.proxy(named: failure.proxy) {
            // What the failed phase left on that proxy is what the scenario last set there.
            let managed = self.plan.managedToxics[failure.proxy] ?? []
            partial = ProxyState(enabled: proxy.enabled, toxics: proxy.toxics.filter { managed.contains($0.name) })
        }
        let now = ScenarioClock.now()
        self.state.withLockedValue { state in
            for (proxy, wanted) in target {
                if proxy == failure?.proxy {
                    state.applied[proxy] = partial ?? state.applied[proxy]
                } else {
                    state.applied[proxy] = wanted
                }
            }
            let reference = ScenarioStatus.PhaseRef(
                index: phase.index,
                name: phase.name,
                startedMs: (startedAt - (state.engine.origin ?? startedAt)).fractionalMilliseconds,
                impaired: phase.impaired,
                outage: phase.outage
            )
            self.emit(
                .phase,
                now: now,
                phase: reference,
                latenessMs: lateness.fractionalMilliseconds,
                skipped: skipped,
                in: &state
            )
            if let failure {
                self.emit(.error, now: now, message: failure.message, in: &state)
            }
        }
        if let failure {
            self.logger.error(
                "Scenario phase could not be applied",
                metadata: ["phase": "\(phase.name)", "error": "\(failure.message)"]
            )
        } else {
            self.logger.debug(
                "Applied scenario phase",
                metadata: ["phase": "\(phase.name)", "lateness_ms": "\(lateness.fractionalMilliseconds)"]
            )
        }
        return failure == nil
    }

    private func restore(_ reason: EndReason) async {
        self.state.withLockedValue { state in
            self.closePhase(in: &state)
            state.scheduledWake?.task.cancel()
            state.scheduledWake = nil
        }
        let current = await self.registry.proxyList()
        let applied = self.state.withLockedValue { $0.applied }
        let (changes, kept) = ChangePlan.restore(
            plan: self.plan,
            baseline: self.baseline,
            applied: applied,
            current: current
        )
        var errors: [String] = []
        for change in changes {
            do throws(APIError) {
                try await self.registry.apply(change)
            } catch {
                errors.append("\(change): \(error.message)")
            }
        }
        let now = ScenarioClock.now()
        let subscribers = self.state.withLockedValue { state in
            state.runState = .ended
            state.endReason = reason
            state.endedAt = now
            state.kept = kept
            state.restoreErrors = errors
            self.emit(.ended, now: now, endReason: reason, kept: kept, in: &state)
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
        for error in errors {
            self.logger.error("Scenario restore step failed", metadata: ["error": "\(error)"])
        }
        self.logger.info(
            "Stopped scenario \(self.id) (\(reason.rawValue)); restored",
            metadata: [
                "reason": "\(reason.rawValue)", "kept": "\(kept.count)", "restore_errors": "\(errors.count)",
            ]
        )
        // Commands still queued (a stop racing the end) find the run ended and just return.
        self.commands.finish()
    }

    /// Ends the running phase's figures: its counts, and the probes of a recovery it started.
    private func closePhase(in state: inout State) {
        if let last = state.phaseCounts.indices.last, state.phaseCounts[last].end == nil {
            state.phaseCounts[last].end = self.totals()
        }
        if let last = state.transitions.indices.last, state.transitions[last].open {
            let (firstAccept, firstDelivery) = self.probes()
            state.transitions[last].firstConnection = firstAccept
            state.transitions[last].recovery = firstDelivery
            state.transitions[last].open = false
            for activity in self.activities { activity.disarm() }
        }
    }

    private func scheduleWake() {
        self.state.withLockedValue { state in
            guard state.runState == .running, let wake = state.engine.nextWake else {
                state.scheduledWake?.task.cancel()
                state.scheduledWake = nil
                return
            }
            if let scheduled = state.scheduledWake {
                guard scheduled.at != wake else { return }
                scheduled.task.cancel()
            }
            let commands = self.commands
            let task = self.eventLoop.scheduleTask(deadline: ScenarioClock.deadline(wake)) {
                _ = commands.yield(.wake)
            }
            state.scheduledWake = (wake, task)
        }
    }

    // MARK: Events

    /// Appends an event and hands it to the live streams (under the lock, so a stream that attaches now gets
    /// each event exactly once: from the replay or from here).
    private func emit(
        _ kind: ScenarioEvent.Kind,
        now: Duration,
        phase: ScenarioStatus.PhaseRef? = nil,
        latenessMs: Double? = nil,
        skipped: Int? = nil,
        endReason: EndReason? = nil,
        kept: [KeptChange] = [],
        message: String? = nil,
        in state: inout State
    ) {
        let event = ScenarioEvent(
            id: state.events.count + 1,
            kind: kind,
            atMs: (now - (state.engine.origin ?? now)).fractionalMilliseconds,
            phase: phase,
            latenessMs: latenessMs,
            skipped: skipped,
            endReason: endReason,
            kept: kept,
            message: message
        )
        state.events.append(event)
        for subscriber in state.subscribers.values {
            subscriber.yield(.event(event))
        }
    }

    /// The events after `lastID`, then the new ones as they come, and a keep-alive every interval; the stream
    /// finishes after `ended`.
    func subscribe(after lastID: Int) -> AsyncStream<StreamItem> {
        let (stream, continuation) = AsyncStream.makeStream(of: StreamItem.self)
        let key = self.state.withLockedValue { state in
            defer { state.nextSubscriber += 1 }
            return state.nextSubscriber
        }
        // Set up before the stream can be finished, so that its end always cancels the keep-alive. A task, not
        // an event-loop timer: a stream can outlive the loop group (a client still attached while the server's
        // owner shuts the group down), and cancelling a timer on a shut-down loop is an error in NIO.
        let interval = self.keepAliveInterval
        let keepAlive = Task {
            while true {
                do {
                    try await Task.sleep(for: .nanoseconds(interval.nanoseconds))
                } catch {
                    return
                }
                if case .terminated = continuation.yield(.keepAlive) { return }
            }
        }
        continuation.onTermination = { [self] _ in
            keepAlive.cancel()
            self.state.withLockedValue { _ = $0.subscribers.removeValue(forKey: key) }
        }
        let live = self.state.withLockedValue { state in
            for event in state.events where event.id > lastID {
                continuation.yield(.event(event))
            }
            guard state.runState == .running else { return false }
            state.subscribers[key] = continuation
            return true
        }
        if !live {
            continuation.finish()
        }
        return stream
    }

    // MARK: Reads

    func status(withHistory: Bool) -> ScenarioStatus {
        let now = ScenarioClock.now()
        return self.state.withLockedValue { state in
            let engine = state.engine
            let origin = engine.origin ?? now
            let elapsed = (state.endedAt ?? now) - origin
            var currentPhase: ScenarioStatus.PhaseRef?
            var nextDue: Duration?
            if state.runState == .running, case .running(let index) = engine.state,
                let phase = engine.currentPhase
            {
                currentPhase = ScenarioStatus.PhaseRef(
                    index: index,
                    name: phase.name,
                    startedMs: (engine.history.last?.started ?? phase.start).fractionalMilliseconds,
                    impaired: phase.impaired,
                    outage: phase.outage
                )
                nextDue = self.plan.phase(at: index + 1)?.start ?? self.plan.end
            }
            var leaseGrace: Duration?
            if case .heartbeat(let grace) = self.plan.scenario.lease { leaseGrace = grace }
            var leaseLeft: Duration?
            if state.runState == .running, let expiry = engine.leaseExpiry {
                leaseLeft = max(.zero, expiry - now)
            }
            let history: [ScenarioStatus.HistoryEntry] =
                withHistory
                ? engine.history.map { record in
                    ScenarioStatus.HistoryEntry(
                        index: record.index,
                        name: record.name,
                        dueMs: record.due.fractionalMilliseconds,
                        startedMs: record.started.fractionalMilliseconds,
                        endedMs: record.ended?.fractionalMilliseconds,
                        impaired: record.impaired,
                        outage: record.outage
                    )
                } : []
            return ScenarioStatus(
                id: self.id,
                name: self.plan.scenario.name,
                proxies: self.plan.scenario.proxies,
                state: state.runState,
                endReason: state.endReason,
                startedAt: self.startedAt,
                elapsedMs: elapsed.fractionalMilliseconds,
                boundMs: (self.plan.scenario.bound ?? self.plan.end).fractionalMilliseconds,
                leaseGraceMs: leaseGrace?.fractionalMilliseconds,
                leaseExpiresInMs: leaseLeft?.fractionalMilliseconds,
                currentPhase: currentPhase,
                nextDueMs: nextDue?.fractionalMilliseconds,
                phaseCount: self.plan.phaseCount,
                history: history,
                kept: state.kept,
                restoreErrors: state.restoreErrors
            )
        }
    }

    /// The recovery report so far: the running phase counts up to now, an open recovery shows what its probes
    /// have seen.
    func report() -> RecoveryReport {
        let now = ScenarioClock.now()
        return self.state.withLockedValue { state in
            let origin = state.engine.origin ?? now
            let live = self.totals()
            let phases = zip(state.engine.history, state.phaseCounts).map { record, counts in
                let phaseCounts = (counts.end ?? live) - counts.start
                let length = (record.ended ?? (now - origin)) - record.started
                var attempts: Double?
                if record.impaired && !record.outage && length > .zero {
                    attempts = Double(phaseCounts.accepted) / (length.fractionalMilliseconds / 1000)
                }
                return RecoveryReport.Phase(
                    index: record.index,
                    name: record.name,
                    impaired: record.impaired,
                    outage: record.outage,
                    startedMs: record.started.fractionalMilliseconds,
                    endedMs: record.ended?.fractionalMilliseconds,
                    counts: phaseCounts,
                    attemptsPerSecond: attempts
                )
            }
            let transitions = state.transitions.map { record in
                var record = record
                if record.open {
                    (record.firstConnection, record.recovery) = self.probes()
                }
                return RecoveryReport.Transition(
                    fromPhase: record.fromPhase,
                    toPhase: record.toPhase,
                    atMs: (record.at - origin).fractionalMilliseconds,
                    firstConnectionMs: record.firstConnection.map { max(.zero, $0 - record.at).fractionalMilliseconds },
                    recoveryMs: record.recovery.map { max(.zero, $0 - record.at).fractionalMilliseconds }
                )
            }
            return RecoveryReport(
                id: self.id,
                name: self.plan.scenario.name,
                proxies: self.plan.scenario.proxies,
                state: state.runState,
                endReason: state.endReason,
                phases: phases,
                transitions: transitions,
                kept: state.kept
            )
        }
    }

    private func totals() -> ActivityCounts {
        self.activities.reduce(.zero) { $0 + $1.counts }
    }

    /// The earliest first accept and first delivery over the scenario's proxies since they were armed.
    private func probes() -> (firstAccept: Duration?, firstDelivery: Duration?) {
        let recorded = self.activities.map(\.probes)
        return (
            recorded.compactMap(\.firstAccept).min().map(ScenarioClock.time(uptimeNanoseconds:)),
            recorded.compactMap(\.firstDelivery).min().map(ScenarioClock.time(uptimeNanoseconds:))
        )
    }
}
