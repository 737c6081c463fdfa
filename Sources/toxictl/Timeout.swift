import ArgumentParser

struct Timeout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make connections hang (toxics timeout_up / timeout_down).",
        subcommands: [TimeoutEnable.self, TimeoutDisable.self]
    )
}
