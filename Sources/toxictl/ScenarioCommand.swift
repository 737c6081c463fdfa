import ArgumentParser

/// `toxictl scenario`: timelines of impairments that the server runs on its own clock.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Run impairment timelines on the server (swift-toxiproxy's), which restores the proxies itself.",
        discussion: """
            A scenario (file format: the README, "Scenarios") is run by the server on its own clock, bounded by its \
            `for` and, unless started with --detach, by a lease that toxictl renews: if toxictl dies, the \
            server restores the proxies within the grace period. Shopify's Toxiproxy has no scenarios; \
            `toxictl flap` then drives the impairment from here.
            """,
        subcommands: [
            ScenarioRunCommand.self, ScenarioListCommand.self, ScenarioStatusCommand.self, ScenarioStopCommand.self,
            ScenarioAttachCommand.self, ScenarioReportCommand.self,
        ]
    )
}

/// The scenario id every subcommand but `run` and `list` takes.
struct ScenarioIDArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The scenario's id, as `run` and `list` print it (s1, s2, ...).", valueName: "id"))
    var id: String

    func validate() throws {
        guard !self.id.isEmpty,
            self.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw ValidationError(
                "\"\(self.id)\" is not a scenario id: ids look like s1, s2 (see `toxictl scenario list`)."
            )
        }
    }
}

extension TargetOptions {
    /// `--proxy` means nothing to commands about scenarios, which name their own proxies.
    func rejectProxyOption() throws {
        if self.proxyOption != nil {
            throw ValidationError("--proxy does not apply here: a scenario names its own proxies.")
        }
    }
}
