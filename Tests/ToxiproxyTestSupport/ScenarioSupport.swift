import Foundation
import NIOCore
import NIOPosix

/// The scenario API as tests drive it: JSON in, parsed JSON out, with the status checked.
extension AdminClient {
    /// `POST /scenarios`, failing unless it answers 201; the status object.
    public func createScenario(_ json: String) async throws -> [String: Any] {
        let response = try await self.post("/scenarios", json)
        guard response.status == 201 else { throw TestFailure("create scenario: \(response)") }
        return try response.jsonObject()
    }

    public func scenarioStatus(_ id: String) async throws -> [String: Any] {
        let response = try await self.get("/scenarios/\(id)")
        guard response.status == 200 else { throw TestFailure("get scenario \(id): \(response)") }
        return try response.jsonObject()
    }

    /// Where the scenario's start lies on `uptimeMilliseconds()` (in-process servers only): each status read
    /// brackets it between the request's send time and the answer's arrival, less `elapsed_ms`; the brackets
    /// of a few reads are intersected. Returns the middle and the half-width of what is left.
    public func scenarioOrigin(_ id: String, reads: Int = 5) async throws -> (originMs: Double, uncertaintyMs: Double) {
        var earliest = -Double.infinity
        var latest = Double.infinity
        for _ in 0..<reads {
            let before = uptimeMilliseconds()
            let status = try await self.scenarioStatus(id)
            let after = uptimeMilliseconds()
            guard let elapsed = status["elapsed_ms"] as? Double else { throw TestFailure("no elapsed_ms: \(status)") }
            earliest = max(earliest, before - elapsed)
            latest = min(latest, after - elapsed)
        }
        // The server rounds elapsed_ms to the microsecond; allow for it.
        return ((earliest + latest) / 2, max(0, latest - earliest) / 2 + 0.001)
    }

    /// Polls the status until the scenario has ended (restored), failing after `timeout`.
    public func waitForScenarioEnd(_ id: String, timeout: Duration = .seconds(10)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let status = try await self.scenarioStatus(id)
            if status["state"] as? String == "ended" { return status }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("scenario \(id) did not end within \(timeout)")
    }
}

/// The monotonic clock the server stamps scenario times with (NIO's uptime), in milliseconds; in-process
/// tests compare their own observations with the server's figures on it.
public func uptimeMilliseconds() -> Double {
    Double(NIODeadline.now().uptimeNanoseconds) / 1e6
}

/// One request/echo round trip through a proxy as a client that retries would make it.
public enum EchoAttempt: Sendable, Equatable {
    /// The echo came back; when its first byte arrived (`uptimeMilliseconds()`).
    case echoed(atMs: Double)
    /// The connection was refused (nothing listens: an outage).
    case refused
    /// Connected, but no echo within the time limit, or the connection was cut.
    case failed

    public var succeeded: Bool {
        if case .echoed = self { return true }
        return false
    }

    /// Connects to `port`, sends `payload` and reads it back, within `timeout`.
    public static func run(port: Int, payload: [UInt8] = Array("ping".utf8), timeout: Duration) async -> EchoAttempt {
        await withTaskGroup(of: EchoAttempt?.self) { group in
            group.addTask {
                let connection: TCPTestClient.Connection
                do {
                    connection = try await TCPTestClient.connect(port: port)
                } catch {
                    if let ioError = error as? IOError, ioError.errnoCode == ECONNREFUSED { return .refused }
                    if "\(error)".lowercased().contains("refused") { return .refused }
                    return .failed
                }
                do {
                    return try await connection.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(bytes: payload))
                        var received = 0
                        var firstAt: Double?
                        for try await buffer in inbound {
                            if firstAt == nil { firstAt = uptimeMilliseconds() }
                            received += buffer.readableBytes
                            if received >= payload.count { return .echoed(atMs: firstAt!) }
                        }
                        return .failed
                    }
                } catch {
                    return .failed
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failed
        }
    }
}
