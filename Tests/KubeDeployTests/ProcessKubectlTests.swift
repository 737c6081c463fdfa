import Foundation
import KubeDeploy
import Testing

/// The real runner against shell scripts standing in for kubectl on a temporary PATH.
@Suite struct ProcessKubectlTests {
    /// A directory holding `kubectl` with `body` as its script, and the file it writes its arguments to.
    struct FakeBinary {
        let directory: URL
        var argsFile: String { directory.appendingPathComponent("args").path }

        init(_ body: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubectl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let script = directory.appendingPathComponent("kubectl")
            try ("#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$ARGS_FILE\"\n" + body + "\n").write(
                to: script,
                atomically: true,
                encoding: .utf8
            )
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        }

        func kubectl(requestTimeout: Duration = .seconds(30), margin: Duration = .seconds(10)) -> ProcessKubectl {
            ProcessKubectl(
                options: KubectlOptions(
                    namespace: "edge",
                    context: "prod",
                    requestTimeout: requestTimeout,
                    deadlineMargin: margin
                ),
                environment: ["PATH": directory.path + ":/usr/bin:/bin", "ARGS_FILE": argsFile]
            )
        }

        /// The arguments kubectl was last run with.
        var arguments: [String] {
            (try? String(contentsOfFile: argsFile, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        }
    }

    @Test func kubectlsErrorTextIsKeptWithTheCommandAndAdvice() async throws {
        let fake = try FakeBinary(
            #"echo 'Error from server (Forbidden): deployments.apps "edge-endpoint" is forbidden: User "dev" cannot get resource' >&2; exit 1"#
        )
        let error = try await #require(throws: KubectlError.self) {
            try await fake.kubectl().get(.deployment, name: "edge-endpoint")
        }
        #expect(error.code == .forbidden)
        #expect(error.message == "kubectl get deployments exited with status 1")
        #expect(error.stderr.hasPrefix("Error from server (Forbidden)"))
        #expect(error.argv.first == fake.directory.path + "/kubectl")
        #expect(Array(error.argv.dropFirst()) == fake.arguments)
        #expect(
            fake.arguments == [
                "--context=prod", "--request-timeout=30s", "get", "deployments", "edge-endpoint", "--ignore-not-found",
                "-o", "json", "-n", "edge",
            ]
        )
        #expect(error.description.contains("kubectl said: Error from server (Forbidden)"))
        #expect(error.description.contains("command: \(fake.directory.path)/kubectl --context=prod"))
        #expect(error.description.contains("what to do:"))
    }

    @Test func aHangingKubectlIsKilledAtTheDeadline() async throws {
        let fake = try FakeBinary("echo started >&2; exec sleep 60")
        let start = ContinuousClock.now
        let error = try await #require(throws: KubectlError.self) {
            try await fake.kubectl(requestTimeout: .milliseconds(300), margin: .milliseconds(200)).get(.pod, name: "p")
        }
        #expect(error.code == .timedOut)
        #expect(error.message.contains("did not finish"))
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test func jsonOutputAndNotFoundAsNil() async throws {
        let found = try FakeBinary(
            #"echo '{"kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"10.0.0.1"}}'"#
        )
        let service = try await found.kubectl().get(.service, name: "s")
        #expect(service?[["spec", "clusterIP"]] == "10.0.0.1")
        let missing = try FakeBinary("exit 0")
        #expect(try await missing.kubectl().get(.service, name: "s") == nil)
    }

    @Test func applySendsTheManifestsOnStdin() async throws {
        let fake = try FakeBinary(
            "cat > \"$ARGS_FILE.stdin\"; echo '{\"kind\":\"List\",\"items\":[{\"kind\":\"ConfigMap\"}]}'"
        )
        let result = try await fake.kubectl().apply([["kind": "ConfigMap"]], dryRun: .server)
        #expect(result == [["kind": "ConfigMap"]])
        let stdin = try String(contentsOfFile: fake.argsFile + ".stdin", encoding: .utf8)
        #expect(try JSON(parsing: stdin)["items"] == [["kind": "ConfigMap"]])
        #expect(fake.arguments.contains("--dry-run=server"))
    }

    @Test func canIReadsYesAndNo() async throws {
        #expect(
            try await FakeBinary("echo yes").kubectl().canI(verb: "get", resource: "pods", subresource: nil, name: nil)
        )
        #expect(
            try await !FakeBinary("echo no; exit 1").kubectl().canI(
                verb: "get",
                resource: "pods",
                subresource: nil,
                name: nil
            )
        )
        await #expect(throws: KubectlError.self) {
            try await FakeBinary("echo 'error: bad' >&2; exit 1").kubectl()
                .canI(verb: "get", resource: "pods", subresource: nil, name: nil)
        }
    }

    @Test func rolloutProgressIsStreamedAndFailureExplained() async throws {
        let fake = try FakeBinary(
            "echo 'Waiting for deployment \"d\" rollout to finish: 1 of 2 updated replicas are available...'\n"
                + "echo 'error: timed out waiting for the condition' >&2; exit 1"
        )
        let lines = Lines()
        let error = try await #require(throws: KubectlError.self) {
            try await fake.kubectl().rolloutStatus(deployment: "d", timeout: .seconds(5)) { lines.append($0) }
        }
        #expect(error.code == .timedOut)
        #expect(
            lines.all == ["Waiting for deployment \"d\" rollout to finish: 1 of 2 updated replicas are available..."]
        )
    }

    @Test func portForwardGivesTheLocalPortAndIsKilledAfterTheScope() async throws {
        let fake = try FakeBinary(
            "echo $$ > \"$ARGS_FILE.pid\"; echo 'Forwarding from 127.0.0.1:43210 -> 8474'; exec sleep 60"
        )
        let start = ContinuousClock.now
        let port = try await fake.kubectl().withPortForward(to: .deployment("proxy"), remotePort: 8474) { $0 }
        #expect(port == 43210)
        #expect(ContinuousClock.now - start < .seconds(20))
        let pid = try #require(
            Int32(
                try String(contentsOfFile: fake.argsFile + ".pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
            )
        )
        #expect(kill(pid, 0) != 0)
        #expect(fake.arguments.contains("deployment/proxy"))
    }

    @Test func portForwardTearsDownWhenTheBodyThrows() async throws {
        struct BodyFailed: Error {}
        let fake = try FakeBinary("echo 'Forwarding from 127.0.0.1:43211 -> 8474'; exec sleep 60")
        await #expect(throws: BodyFailed.self) {
            try await fake.kubectl().withPortForward(to: .pod("p"), remotePort: 8474) { _ in throw BodyFailed() }
        }
    }

    @Test func aPortForwardThatFailsReportsKubectlsText() async throws {
        let fake = try FakeBinary("echo 'error: unable to listen on any of the requested ports' >&2; exit 1")
        let error = try await #require(throws: KubectlError.self) {
            try await fake.kubectl().withPortForward(to: .pod("p"), remotePort: 8474) { $0 }
        }
        #expect(error.code == .portForwardFailed)
        #expect(error.stderr.contains("unable to listen"))
    }

    @Test func aMissingKubectlSaysSo() async throws {
        let kubectl = ProcessKubectl(options: KubectlOptions(namespace: "edge"), environment: ["PATH": "/nonexistent"])
        let error = try await #require(throws: KubectlError.self) { try await kubectl.namespaceExists() }
        #expect(error.code == .notInstalled)
    }
}

final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
