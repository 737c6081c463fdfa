import Foundation
import NIOCore
import NIOPosix

extension TestServer {
    /// Creates a proxy on 127.0.0.1 with an ephemeral port and returns that port.
    public func createProxy(name: String, upstreamHost: String = "127.0.0.1", upstreamPort: Int) async throws -> Int {
        try await self.admin.createProxy(name: name, upstreamHost: upstreamHost, upstreamPort: upstreamPort)
    }

    /// Adds a toxic from a JSON body and fails the test unless the server accepted it.
    public func addToxic(proxy: String, _ json: String) async throws {
        let response = try await self.admin.post("/proxies/\(proxy)/toxics", json)
        guard response.status == 200 else { throw TestFailure("add toxic to \(proxy): \(response)") }
    }

    public func removeToxic(proxy: String, _ name: String) async throws {
        let response = try await self.admin.delete("/proxies/\(proxy)/toxics/\(name)")
        guard response.status == 204 else { throw TestFailure("remove toxic \(name): \(response)") }
    }

    public func setEnabled(proxy: String, _ enabled: Bool) async throws {
        let response = try await self.admin.post("/proxies/\(proxy)", #"{"enabled":\#(enabled)}"#)
        guard response.status == 200 else { throw TestFailure("enable=\(enabled) \(proxy): \(response)") }
    }
}

extension AdminClient.Response {
    public func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(self.body.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(self.body)")
        }
        return object
    }
}

/// Elapsed wall time in milliseconds since `start`.
public func milliseconds(since start: ContinuousClock.Instant) -> Double {
    (ContinuousClock.now - start).milliseconds
}

extension Duration {
    /// The duration in milliseconds, with its fraction.
    public var milliseconds: Double {
        Double(self.components.seconds) * 1000 + Double(self.components.attoseconds) / 1e15
    }
}

/// The value at fraction `q` (0...1) of the sorted samples.
public func percentile(_ samples: [Double], _ q: Double) -> Double {
    let sorted = samples.sorted()
    let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))
    return sorted[index]
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(
    timeout: Duration = .seconds(5),
    _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

extension AdminClient {
    /// Creates a proxy on 127.0.0.1 with an ephemeral port and returns that port.
    public func createProxy(name: String, upstreamHost: String = "127.0.0.1", upstreamPort: Int) async throws -> Int {
        let response = try await self.post(
            "/proxies",
            #"{"name":"\#(name)","listen":"127.0.0.1:0","upstream":"\#(upstreamHost):\#(upstreamPort)"}"#
        )
        guard response.status == 201 else { throw TestFailure("create proxy \(name): \(response)") }
        let object = try response.jsonObject()
        guard let listen = object["listen"] as? String,
            let port = listen.split(separator: ":").last.flatMap({ Int($0) })
        else { throw TestFailure("no port in \(response.body)") }
        return port
    }
}
