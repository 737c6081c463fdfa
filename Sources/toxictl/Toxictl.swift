import ArgumentParser

@main
struct Toxictl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toxictl",
        abstract: "Test how a service behaves when its network degrades, through a Toxiproxy server.",
        discussion: """
            Every command acts on one proxy (default api_groundlight_ai) of one Toxiproxy admin API: \
            --admin-url, else $TOXIPROXY_URL, else http://127.0.0.1:8474. It works against this project's \
            server (`toxictl serve`) and against Shopify's Toxiproxy 2.6 or later.
            """,
        version: ToxictlVersion.current,
        subcommands: [
            Serve.self, Enable.self, Disable.self, Status.self, Latency.self, Timeout.self, Outage.self,
            Flap.self, Reset.self,
        ]
    )
}

enum ToxictlVersion {
    static let current = "0.1.0"
}
