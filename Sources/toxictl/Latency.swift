import ArgumentParser

struct Latency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add or remove fixed latency (toxics fixed_latency_up / fixed_latency_down).",
        subcommands: [LatencyEnable.self, LatencyDisable.self]
    )
}
