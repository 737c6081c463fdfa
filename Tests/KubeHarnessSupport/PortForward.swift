import Foundation
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension KubeHarness {
    /// Runs `kubectl -n NAMESPACE port-forward --address 127.0.0.1 TARGET :REMOTEPORT` (an ephemeral local port)
    /// for the duration of `body`, which gets the local port read from kubectl's
    /// "Forwarding from 127.0.0.1:PORT -> REMOTEPORT" line. Throws when that line has not come within `limit`
    /// or kubectl exited first. kubectl is stopped afterwards, whatever happens.
    /// - Parameter target: `pod/NAME`, `deploy/NAME` or `svc/NAME`.
    public func withPortForward<T>(
        namespace: String,
        target: String,
        remotePort: Int,
        kubeconfig: String? = nil,
        within limit: Duration = .seconds(30),
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let arguments = [
            "--kubeconfig", kubeconfig ?? self.kubeconfig, "-n", namespace,
            "port-forward", "--address", "127.0.0.1", target, ":\(remotePort)",
        ]
        let process = try self.startKubectl(arguments)
        defer { process.cleanUp() }
        let output = try await process.waitForStdout(within: limit) { Self.forwardedPort(in: $0) != nil }
        guard let output, let localPort = Self.forwardedPort(in: output) else {
            throw TestFailure(
                "kubectl \(arguments.joined(separator: " ")) printed no \"Forwarding from\" line within \(limit)"
                    + (process.isRunning ? "" : " and exited (\(process.exitStatus))")
                    + "; stdout: \(process.stdout) stderr: \(process.stderr)"
            )
        }
        let result = try await body(localPort)
        if process.isRunning {
            process.send(signal: SIGTERM)
            _ = try? await process.waitForExit(within: .seconds(2))
        }
        return result
    }

    /// The local port of the first `Forwarding from 127.0.0.1:PORT -> …` line of `output`.
    public static func forwardedPort(in output: String) -> Int? {
        for line in output.split(separator: "\n") {
            guard line.hasPrefix("Forwarding from 127.0.0.1:"), let arrow = line.range(of: " -> ") else { continue }
            let port = line[line.index(line.startIndex, offsetBy: "Forwarding from 127.0.0.1:".count)..<arrow.lowerBound]
            if let port = Int(port) { return port }
        }
        return nil
    }
}
