import Foundation
import Testing
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `toxictl serve`: a server that other toxictl commands drive, stopped gracefully by SIGTERM or SIGINT.
@Suite
struct ToxictlServeTests {
    static func port(of url: String) -> Int? {
        url.split(separator: ":").last.flatMap { Int($0) }
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func serveIsDrivenByToxictlAndStopsCleanlyOnASignal(signal: Int32) async throws {
        try await withEchoServer { echoPort in
            let (serve, url) = try await Toxictl.serve()
            defer { serve.cleanUp() }
            let adminPort = try #require(Self.port(of: url), "\(url)")
            #expect(url == "http://127.0.0.1:\(adminPort)")
            #expect(adminPort != 0)

            let enable = try await Toxictl.run([
                "enable", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:\(echoPort)", "--admin-url", url,
            ])
            try #require(enable.status == 0, "\(enable)")
            let latency = try await Toxictl.run(["latency", "enable", "150", "--admin-url", url])
            try #require(latency.status == 0, "\(latency)")
            let status = try await Toxictl.run(["status", "-o", "json", "--admin-url", url])
            let proxy = try ProxyState(json: try #require(status.jsonObject?["proxy"] as? [String: Any], "\(status)"))
            #expect(proxy.toxicNames == ["fixed_latency_up"])
            #expect(status.jsonObject?["server_version"] as? String == "2.12.0")
            let proxyPort = try #require(proxy.listenPort)
            let roundTrip = try #require(try await Traffic.roundTrip(port: proxyPort))
            #expect(roundTrip >= 150, "round trip \(roundTrip) ms through the served proxy")

            try await serve.stop(signal: signal, within: .seconds(5))
            #expect(serve.completed.exitedNormally, "\(serve.completed)")
            #expect(serve.exitStatus == 0, "\(serve.completed)")
            #expect(await Loopback.canBind(port: adminPort), "the admin port must be free after exit")
            #expect(await Loopback.canBind(port: proxyPort), "the proxy port must be free after exit")
        }
    }

    @Test
    func serveLoadsProxiesFromAConfigFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "toxictl-serve-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("proxies.json")
        try Data(#"[{"name":"api_groundlight_ai","listen":"127.0.0.1:0","upstream":"127.0.0.1:19999"}]"#.utf8)
            .write(to: config)
        let (serve, url) = try await Toxictl.serve(["--config", config.path])
        defer { serve.cleanUp() }
        let status = try await Toxictl.run(["status", "-o", "json", "--admin-url", url])
        let proxy = try ProxyState(json: try #require(status.jsonObject?["proxy"] as? [String: Any], "\(status)"))
        #expect(proxy.upstream == "127.0.0.1:19999")
        #expect(proxy.enabled)
        try await serve.stop(signal: SIGTERM)
        #expect(serve.exitStatus == 0)
    }

    @Test
    func serveOnAPortInUseExits1WithTheCause() async throws {
        try await Loopback.withOccupiedPort { port in
            let result = try await Toxictl.run(["serve", "--host", "127.0.0.1", "--port", "\(port)"])
            #expect(result.status == 1 && result.exitedNormally, "\(result)")
            #expect(result.stderr.contains("Address already in use"), "\(result)")
            #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "the address is not named: \(result)")
            #expect(result.stderr.contains("--port"), "no way out named: \(result)")
        }
    }

    @Test(arguments: [
        (["serve", "--port", "70000"], "--port must be from 0 to 65535 (got 70000)"),
        (
            ["serve", "--config", "/nonexistent/proxies.json"],
            "--config /nonexistent/proxies.json: the file cannot be read"
        ),
    ])
    func serveRejectsBadOptionsBeforeStarting(arguments: [String], message: String) async throws {
        let result = try await Toxictl.run(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(!result.stdout.contains("serving"), "\(result)")
    }
}
