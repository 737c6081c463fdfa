import ToxiproxyClient
import ToxiproxyModel

/// Alternates a proxy between UP (healthy) and DOWN (impaired) on a drift-free schedule.
///
/// `run` only applies phases; restoring the state from before the flap is `restore`, which the caller runs
/// outside the (possibly cancelled) task that ran the phases, so a signal cannot cut the cleanup short.
public struct Flapper: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// DOWN disables the proxy: connections are refused.
        case refuse
        /// DOWN adds timeout toxics: connections hang.
        case timeout
    }

    public struct Configuration: Sendable {
        public var mode: Mode
        public var schedule: FlapSchedule
        public var timeoutMilliseconds: Int64
        public var timeoutDirection: Direction

        public init(mode: Mode, schedule: FlapSchedule, timeoutMilliseconds: Int64, timeoutDirection: Direction) {
            self.mode = mode
            self.schedule = schedule
            self.timeoutMilliseconds = timeoutMilliseconds
            self.timeoutDirection = timeoutDirection
        }
    }

    /// One phase as it happened.
    public struct PhaseReport: Sendable {
        public var index: Int
        public var phase: FlapSchedule.Phase
        public var cycle: Int
        /// When the phase was due and when its changes were sent, both from the flap's start.
        public var scheduled: Duration
        public var started: Duration
        public var calls: [APICall]
    }

    public let client: ToxiproxyClient
    public let impairments: ProxyImpairments
    public let configuration: Configuration

    public init(client: ToxiproxyClient, impairments: ProxyImpairments, configuration: Configuration) {
        self.client = client
        self.impairments = impairments
        self.configuration = configuration
    }

    /// The toxics a flap may touch, whose state `restore` brings back.
    public var touchedToxicNames: [String] {
        [self.impairments.timeoutNames.upstream, self.impairments.timeoutNames.downstream]
    }

    /// The changes that put the proxy into `phase`, given its current state and its state before the flap.
    public func plan(_ phase: FlapSchedule.Phase, current: Proxy, snapshot: Proxy) -> [APICall] {
        switch (self.configuration.mode, phase) {
        case (.refuse, .up):
            self.impairments.setOutage(false, current: current)
        case (.refuse, .down):
            self.impairments.setOutage(true, current: current)
        case (.timeout, .up):
            // Healthy means the timeout toxics as they were before the flap: one that existed is put back in
            // place (keeping its position in the chain), one the flap added is removed.
            self.impairments.restoreToxics(snapshot, names: self.touchedToxicNames, current: current)
        case (.timeout, .down):
            self.impairments.enableTimeout(
                milliseconds: self.configuration.timeoutMilliseconds,
                direction: self.configuration.timeoutDirection,
                current: current
            )
        }
    }

    /// Runs every phase at its boundary, reporting each, until the schedule ends (after the last DOWN period)
    /// or the task is cancelled (`CancellationError`). A failed call ends the run with its error. `snapshot`
    /// is the proxy before the flap, which UP phases return to.
    ///
    /// - Parameter firstPhase: the phase to begin with, for a run resumed on the same schedule (a phase due in
    ///   the past is applied at once and reported late).
    public func run(
        from snapshot: Proxy,
        startingAt start: ContinuousClock.Instant = .now,
        firstPhase: Int = 0,
        report: (PhaseReport) -> Void
    ) async throws -> [PhaseReport] {
        let schedule = self.configuration.schedule
        var reports: [PhaseReport] = []
        var index = firstPhase
        while schedule.phaseCount.map({ index < $0 }) ?? true {
            let due = start + schedule.start(ofPhase: index)
            try await Task.sleep(until: due, clock: .continuous)
            let phase = schedule.phase(index)
            let started = ContinuousClock.now - start
            let calls = try await self.apply(phase, snapshot: snapshot)
            let phaseReport = PhaseReport(
                index: index,
                phase: phase,
                cycle: schedule.cycle(index),
                scheduled: schedule.start(ofPhase: index),
                started: started,
                calls: calls
            )
            reports.append(phaseReport)
            report(phaseReport)
            index += 1
        }
        if let end = schedule.end {
            try await Task.sleep(until: start + end, clock: .continuous)
        }
        return reports
    }

    /// Brings the touched toxics and the enabled flag back to `snapshot`; returns the calls sent.
    public func restore(_ snapshot: Proxy) async throws(ToxiproxyClientError) -> [APICall] {
        let current = try await self.client.proxy(named: self.impairments.proxy)
        let calls = self.impairments.restore(snapshot, names: self.touchedToxicNames, current: current)
        for call in calls {
            try await self.client.perform(call)
        }
        return calls
    }

    private func apply(_ phase: FlapSchedule.Phase, snapshot: Proxy) async throws -> [APICall] {
        do {
            let current = try await self.client.proxy(named: self.impairments.proxy)
            let calls = self.plan(phase, current: current, snapshot: snapshot)
            for call in calls {
                try await self.client.perform(call)
            }
            return calls
        } catch {
            // A request cut short by cancellation is the stop, not a failure of the flap.
            try Task.checkCancellation()
            throw error
        }
    }
}
