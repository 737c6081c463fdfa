// The README's example of testing a Swift service with the embedded server, verbatim: keep the two in step.

import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Testing
import ToxiproxyClient
import ToxiproxyServer

/// The code under test: asks an upstream whether it is up, and gives up after 250 ms.
struct HealthCheck {
    var url: String

    func isUp() async -> Bool {
        do {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: self.url),
                timeout: .milliseconds(250)
            )
            _ = try await response.body.collect(upTo: 1 << 20)
            return response.status == .ok
        } catch {
            return false
        }
    }
}

@Test
func healthCheckSeesASlowOrMissingUpstreamAsDownAndRecovers() async throws {
    try await withToxiproxyServer { toxiproxy in
        // The upstream is whatever the service calls; to stay self-contained, this test uses the embedded
        // server's own admin API (an HTTP server on 127.0.0.1).
        let upstream = String(toxiproxy.adminURL.dropFirst("http://".count))
        let (_, port) = try await toxiproxy.createProxy(name: "upstream", upstream: upstream)
        let check = HealthCheck(url: "http://127.0.0.1:\(port)/version")

        try await ToxiproxyClient.withClient(baseURL: toxiproxy.adminURL) { client in
            let proxy = client.proxyHandle(named: "upstream")
            #expect(await check.isUp())

            try await proxy.withLatency(.seconds(1)) {
                #expect(await !check.isUp())  // slower than the check's 250 ms deadline
            }
            try await proxy.withOutage {
                #expect(await !check.isUp())  // connection refused
            }

            #expect(await check.isUp())  // both impairments were undone
        }
    }
}
