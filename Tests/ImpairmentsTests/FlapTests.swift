import Impairments
import Testing
import ToxiproxyClient
import ToxiproxyModel
import ToxiproxyTestSupport

struct FlapScheduleTests {
    @Test
    func boundariesLieOnAFixedGrid() {
        let schedule = FlapSchedule(up: .milliseconds(150), down: .milliseconds(100), iterations: 3)
        #expect((0..<6).map { schedule.start(ofPhase: $0) } == [0, 150, 250, 400, 500, 650].map { .milliseconds($0) })
        #expect((0..<6).map { schedule.phase($0) } == [.up, .down, .up, .down, .up, .down])
        #expect((0..<6).map { schedule.cycle($0) } == [1, 1, 2, 2, 3, 3])
        #expect(schedule.phaseCount == 6 && schedule.end == .milliseconds(750))
    }

    @Test
    func zeroIterationsRunsUntilStopped() {
        let schedule = FlapSchedule(up: .seconds(15), down: .seconds(15), iterations: 0)
        #expect(schedule.phaseCount == nil && schedule.end == nil)
        #expect(schedule.start(ofPhase: 1001) == .seconds(15 * 1001))
    }

    /// A flap resumed after its port-forward was lost goes on with the phase that is running by then.
    @Test
    func thePhaseRunningAtAnyMomentIsTheLastOneBegun() {
        let schedule = FlapSchedule(up: .milliseconds(150), down: .milliseconds(100), iterations: 3)
        let moments = [0, 149, 150, 249, 250, 399, 400, 649, 650, 749, 750, 5_000]
        #expect(moments.map { schedule.phaseIndex(at: .milliseconds($0)) } == [0, 0, 1, 1, 2, 2, 3, 4, 5, 5, 5, 5])
        for index in 0..<6 {
            #expect(schedule.phaseIndex(at: schedule.start(ofPhase: index)) == index)
        }
        let endless = FlapSchedule(up: .seconds(15), down: .seconds(15), iterations: 0)
        #expect(endless.phaseIndex(at: .seconds(15 * 1001) + .milliseconds(1)) == 1001)
        #expect(endless.phaseIndex(at: .milliseconds(-5)) == 0)
    }
}

/// A flap against a real server: phases on schedule, the proxy really changing, and the state restored.
@Suite(.serialized)
struct FlapperTests {
    @Test(.timeLimit(.minutes(1)))
    func refuseFlapFollowsItsScheduleAndRestores() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "api", upstreamPort: 9)
            try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(server.adminPort)") { client in
                let flapper = Flapper(
                    client: client,
                    impairments: ProxyImpairments(proxy: "api"),
                    configuration: .init(
                        mode: .refuse,
                        schedule: FlapSchedule(up: .milliseconds(150), down: .milliseconds(150), iterations: 4),
                        timeoutMilliseconds: 0,
                        timeoutDirection: .both
                    )
                )
                let snapshot = try await client.proxy(named: "api")
                let start = ContinuousClock.now
                var observedDisabled = false
                let reports = try await flapper.run(from: snapshot, startingAt: start) { _ in }
                for report in reports {
                    let late = report.started - report.scheduled
                    #expect(late >= .zero && late < .milliseconds(30), "phase \(report.index) started \(late) late")
                    #expect(report.scheduled == .milliseconds(150 * report.index))
                }
                #expect(reports.map(\.phase) == [.up, .down, .up, .down, .up, .down, .up, .down])
                #expect(ContinuousClock.now - start >= .milliseconds(1200), "the run lasts until the last DOWN ends")
                // The last phase was DOWN, so the proxy is disabled now, until restored.
                observedDisabled = try await !client.proxy(named: "api").enabled
                #expect(observedDisabled)
                #expect(try await flapper.restore(snapshot) == [.setProxyEnabled(proxy: "api", enabled: true)])
                #expect(try await client.proxy(named: "api") == snapshot)
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellingMidDownStopsAndRestoreUndoesTheTimeouts() async throws {
        try await withTestServer { server in
            _ = try await server.createProxy(name: "api", upstreamPort: 9)
            try await ToxiproxyClient.withClient(baseURL: "http://127.0.0.1:\(server.adminPort)") { client in
                let flapper = Flapper(
                    client: client,
                    impairments: ProxyImpairments(proxy: "api"),
                    configuration: .init(
                        mode: .timeout,
                        schedule: FlapSchedule(up: .milliseconds(50), down: .seconds(30), iterations: 0),
                        timeoutMilliseconds: 1000,
                        timeoutDirection: .both
                    )
                )
                let snapshot = try await client.proxy(named: "api")
                let (downStarted, signal) = AsyncStream.makeStream(of: Void.self)
                let run = Task {
                    try await flapper.run(from: snapshot) { report in
                        if report.phase == .down { signal.yield() }
                    }
                }
                for await _ in downStarted { break }
                #expect(try await client.toxics(ofProxy: "api").map(\.name) == ["timeout_up", "timeout_down"])
                run.cancel()
                await #expect(throws: CancellationError.self) { try await run.value }
                let restored = try await flapper.restore(snapshot)
                #expect(restored.count == 2)
                #expect(try await client.proxy(named: "api") == snapshot)
            }
        }
    }
}
