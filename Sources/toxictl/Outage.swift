import ArgumentParser

struct Outage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Refuse connections (the proxy disabled) or end the outage.",
        subcommands: [OutageEnable.self, OutageDisable.self]
    )
}
