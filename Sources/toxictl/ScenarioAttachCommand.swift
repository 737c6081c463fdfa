import ArgumentParser
import Scenarios
import ToxiproxyClient
import ToxiproxyModel

struct ScenarioAttachCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Follow a scenario's events until it ends (renewing its lease, if it has one).",
        discussion: """
            Prints its events from the start (or after --after N), then how it ended, as `scenario run --follow` \
            does. A scenario with a lease is held by whoever renews it: attached, toxictl renews it, and SIGINT \
            or SIGTERM stops it (the server restores the proxies). One without a lease (--detach) is only \
            watched: a signal detaches and leaves it running. With -n, a lost port-forward is re-opened.
            Exit status: as `scenario run`.
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var scenario: ScenarioIDArgument
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("Only the events after this one (their ids count from 1).", valueName: "n"))
    var after = 0

    func validate() throws {
        try self.target.rejectProxyOption()
        guard self.after >= 0 else { throw ValidationError("--after must be 0 or more (got \(self.after)).") }
    }

    func run() async throws {
        let json = self.output.format == .json
        if !json { Console.line(try await self.target.targetLine(subject: nil)) }
        let session = ScenarioSession(target: self.target, json: json)
        let control = await SignalControl.trapping()
        defer { control.stop() }
        let status = try await session.call { client throws(ToxiproxyClientError) in
            try await client.scenario(id: self.scenario.id)
        }
        let holdsLease = status.state == .running && status.leaseGraceMs != nil
        if !json {
            Console.line(
                "attached to scenario \(ScenarioPrinter.label(id: status.id, name: status.name)) on "
                    + status.proxies.joined(separator: ", ") + ": "
                    + (status.state == .ended
                        ? "it has ended; its events:"
                        : holdsLease
                            ? "renewing its lease (grace \(ScenarioPrinter.duration(milliseconds: status.leaseGraceMs!))); "
                                + "SIGINT/SIGTERM stops it"
                            : "no lease; SIGINT/SIGTERM only detaches")
            )
        }
        let phaseCount = status.phaseCount
        let outcome = await session.attach(
            to: status,
            after: self.after,
            holdsLease: holdsLease,
            control: control
        ) { event in
            Console.line(json ? event.jsonValue.text : ScenarioPrinter.eventLine(event, phaseCount: phaseCount))
        }
        try ScenarioRunCommand.finish(outcome, started: status, session: session, json: json)
    }
}
