import Logging
import NIOCore
import Scenarios
import ToxiproxyModel

/// The server's scenarios: creation (validation, the proxy checks, the baseline), lookup, stop, and the
/// shutdown that stops and restores every running one. Each run drives itself (`ScenarioRun`); this actor
/// only keeps the list, so that two creations cannot both claim one proxy.
public actor ScenarioRunner {
    /// Ended scenarios kept for `GET /scenarios` and their reports.
    static let endedKept = 50

    private let registry: ProxyRegistry
    private let group: any EventLoopGroup
    private let logger: Logger
    private let keepAliveInterval: TimeAmount
    /// In creation order.
    private var runs: [ScenarioRun] = []
    private var nextID = 1
    private var shuttingDown = false

    /// - Parameter keepAliveInterval: how often an idle event stream gets a `: keep-alive` comment.
    public init(
        registry: ProxyRegistry,
        group: any EventLoopGroup,
        logger: Logger,
        keepAliveInterval: TimeAmount = .seconds(10)
    ) {
        self.registry = registry
        self.group = group
        self.logger = logger
        self.keepAliveInterval = keepAliveInterval
    }

    /// Validates `body`, checks its proxies, takes the baseline and applies the first phase.
    func create(_ body: JSONValue) async throws(APIError) -> ScenarioRun {
        guard !self.shuttingDown else {
            throw APIError(code: .unavailable, status: 503, message: "the server is shutting down")
        }
        let plan: ScenarioPlan
        do throws(ScenarioError) {
            plan = try ScenarioPlan(try Scenario(json: body))
        } catch {
            throw APIError(code: .invalidScenario, status: 400, message: error.description, cause: error)
        }
        let scenario = plan.scenario
        let proxies = await self.registry.proxyList()
        var baseline: [Proxy] = []
        var activities: [ProxyActivity] = []
        for (index, name) in scenario.proxies.enumerated() {
            guard let proxy = proxies.first(where: { $0.name == name }),
                let activity = try? await self.registry.activity(ofProxy: name)
            else {
                throw APIError(
                    code: .proxyNotFound,
                    status: 404,
                    message: "proxies[\(index)]: proxy not found: \(name)"
                )
            }
            baseline.append(proxy)
            activities.append(activity)
        }
        // No suspension from here to the append: the check and the claim are one step.
        guard !self.shuttingDown else {
            throw APIError(code: .unavailable, status: 503, message: "the server is shutting down")
        }
        for run in self.runs where run.isRunning {
            if let shared = scenario.proxies.first(where: run.proxies.contains) {
                throw APIError(
                    code: .scenarioConflict,
                    status: 409,
                    message: "proxy \(shared) is already in running scenario \(run.id)"
                )
            }
        }
        let run = ScenarioRun(
            id: "s\(self.nextID)",
            plan: plan,
            baseline: baseline,
            activities: activities,
            registry: self.registry,
            eventLoop: self.group.next(),
            keepAliveInterval: self.keepAliveInterval,
            logger: self.logger
        )
        self.nextID += 1
        self.runs.append(run)
        self.prune()
        self.logger.info(
            "Started scenario \(run.id)",
            metadata: [
                "name": "\(scenario.name ?? "")", "proxies": "\(scenario.proxies.joined(separator: ","))",
            ]
        )
        await run.start()
        return run
    }

    /// Running scenarios and the last ended ones, newest first.
    func list() -> [ScenarioRun] {
        self.prune()
        return self.runs.reversed()
    }

    func run(id: String) throws(APIError) -> ScenarioRun {
        guard let run = self.runs.first(where: { $0.id == id }) else {
            throw APIError(code: .scenarioNotFound, status: 404, message: "scenario not found: \(id)")
        }
        return run
    }

    /// Stops every running scenario for `.shutdown` and restores, and refuses new ones. Returns once all are
    /// restored; safe to call more than once.
    public func shutdown() async {
        self.shuttingDown = true
        let running = self.runs.filter(\.isRunning)
        await withTaskGroup(of: Void.self) { group in
            for run in running {
                group.addTask { await run.stop(.shutdown) }
            }
        }
    }

    private func prune() {
        let ended = self.runs.filter { !$0.isRunning }
        guard ended.count > Self.endedKept else { return }
        let dropped = Set(ended.prefix(ended.count - Self.endedKept).map(\.id))
        self.runs.removeAll { dropped.contains($0.id) }
    }
}
