import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// ``Kubectl`` by running the kubectl binary, so the operator's contexts and auth plugins just work.
///
/// Every call passes `--context`/`--kubeconfig` when set, `-n` when namespaced and `--request-timeout`, and
/// runs under a process deadline: past it kubectl is killed and the call throws `timedOut`. A failing call
/// throws a ``KubectlError`` with kubectl's own error text and the command line.
public struct ProcessKubectl: Kubectl {
    public let options: KubectlOptions
    /// `kubectl` (looked up on PATH) or a path to the binary.
    public let executable: String
    /// Variables set for kubectl on top of this process's environment; a `PATH` here is also where
    /// `executable` is looked up.
    public let environment: [String: String]

    public init(options: KubectlOptions, executable: String = "kubectl", environment: [String: String] = [:]) {
        self.options = options
        self.executable = executable
        self.environment = environment
    }

    // MARK: Kubectl

    public func currentContext() async throws -> KubeContext {
        let command = KubectlCommand.configView(options)
        let config = try await json(command)
        guard let context = config["current-context"]?.stringValue, !context.isEmpty else {
            throw KubectlError(
                .badOutput,
                "kubectl has no current context; pass --context or set one with kubectl config use-context",
                argv: try argv(command)
            )
        }
        let entry = config["contexts"]?.arrayValue?.first?["context"]
        return KubeContext(
            context: context,
            cluster: entry?["cluster"]?.stringValue ?? "",
            namespace: options.namespace
        )
    }

    public func namespaceExists() async throws -> Bool {
        try await optionalJSON(.getNamespace(options)) != nil
    }

    public func get(_ kind: KubeKind, name: String) async throws -> JSON? {
        try await optionalJSON(.get(options, kind: kind, name: name))
    }

    public func list(_ kind: KubeKind, selector: String) async throws -> [JSON] {
        let command = KubectlCommand.list(options, kind: kind, selector: selector)
        return try await items(of: try await json(command), command: command)
    }

    public func apply(_ objects: [JSON], dryRun: DryRun) async throws -> [JSON] {
        let command = KubectlCommand.apply(options, objects: objects, dryRun: dryRun)
        let output = try await json(command)
        // One object comes back as itself, several as a List.
        return output["kind"]?.stringValue == "List" ? try await items(of: output, command: command) : [output]
    }

    public func patch(_ kind: KubeKind, name: String, type: PatchType, patch: JSON) async throws -> JSON {
        try await json(.patch(options, kind: kind, name: name, type: type, patch: patch))
    }

    public func delete(_ kind: KubeKind, name: String) async throws -> Bool {
        let output = try await checked(.delete(options, kind: kind, name: name))
        return !output.trimmingWhitespace().isEmpty
    }

    public func canI(verb: String, resource: String, subresource: String?, name: String?) async throws -> Bool {
        let command = KubectlCommand.canI(options, verb: verb, resource: resource, subresource: subresource, name: name)
        let result = try await run(command)
        // can-i answers "no" with exit status 1; anything else on exit 1 is an error.
        switch (result.exitCode, result.stdout.trimmingWhitespace()) {
        case (0, let answer) where answer.hasPrefix("yes"): return true
        case (_, let answer) where answer.hasPrefix("no"): return false
        default: throw KubectlError.failure(exitCode: result.exitCode, stderr: result.stderr, argv: try argv(command))
        }
    }

    public func rolloutStatus(
        deployment: String,
        timeout: Duration,
        progress: @escaping @Sendable (String) -> Void
    ) async throws {
        let command = KubectlCommand.rolloutStatus(options, deployment: deployment, timeout: timeout)
        let result = try await run(command, onLine: progress)
        guard result.exitCode == 0 else {
            var error = KubectlError.failure(exitCode: result.exitCode, stderr: result.stderr, argv: try argv(command))
            if result.stderr.contains("timed out waiting") || result.stderr.contains("exceeded its progress deadline") {
                error.code = .timedOut
                error.message = "the rollout of Deployment \(deployment) did not finish within \(timeout)"
            }
            throw error
        }
    }

    public func withPortForward<Result: Sendable>(
        to target: PortForwardTarget,
        remotePort: Int,
        _ body: (Int) async throws -> Result
    ) async throws -> Result {
        let command = KubectlCommand.portForward(options, target: target, remotePort: remotePort)
        let argv = try argv(command)
        let stderr = LineCollector()
        let result = try await Subprocess.run(
            .path(FilePath(argv[0])),
            arguments: Arguments(command.arguments),
            environment: subprocessEnvironment,
            input: .none,
            output: .sequence,
            error: .sequence
        ) { execution in
            try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
                let (ports, portContinuation) = AsyncStream<Int>.makeStream()
                let timedOut = LineCollector()
                group.addTask {
                    // Keep reading after the port line so kubectl never blocks on a full pipe.
                    for try await line in execution.standardOutput.strings() {
                        if let port = Self.forwardedPort(in: line) { portContinuation.yield(port) }
                    }
                    portContinuation.finish()
                }
                group.addTask {
                    for try await line in execution.standardError.strings() { stderr.append(line) }
                }
                group.addTask {
                    try await Task.sleep(for: command.deadline)
                    timedOut.append("yes")
                    portContinuation.finish()
                }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else {
                    try? execution.send(signal: .kill)
                    let didTimeOut = !timedOut.text.isEmpty
                    // The readers end once the killed process's pipes close; then stderr is complete.
                    if !didTimeOut {
                        for _ in 0..<2 { _ = try? await group.next() }
                    }
                    group.cancelAll()
                    throw KubectlError(
                        didTimeOut ? .timedOut : .portForwardFailed,
                        didTimeOut
                            ? "kubectl port-forward printed no local port within \(command.deadline)"
                            : "kubectl port-forward ended before it forwarded a port",
                        stderr: stderr.text,
                        argv: argv
                    )
                }
                let outcome: Swift.Result<Result, any Error>
                do {
                    outcome = .success(try await body(port))
                } catch {
                    outcome = .failure(error)
                }
                try? execution.send(signal: .kill)
                group.cancelAll()
                return try outcome.get()
            }
        }
        return result.closureResult
    }

    /// The local port of kubectl's "Forwarding from 127.0.0.1:PORT -> 8474" line.
    static func forwardedPort(in line: String) -> Int? {
        let prefix = "Forwarding from 127.0.0.1:"
        guard line.hasPrefix(prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        return Int(rest.prefix { $0.isNumber })
    }

    // MARK: Running

    struct Output: Sendable {
        /// nil when kubectl was killed by a signal.
        var exitCode: Int32?
        var stdout: String
        var stderr: String
    }

    /// The argv of `command`, with the binary resolved to a path.
    func argv(_ command: KubectlCommand) throws -> [String] {
        [try resolvedExecutable()] + command.arguments
    }

    private var subprocessEnvironment: Environment {
        var overrides: [Environment.Key: String?] = [:]
        for (name, value) in environment {
            if let key = Environment.Key(rawValue: name) { overrides[key] = value }
        }
        return .inherit.updating(overrides)
    }

    private func resolvedExecutable() throws -> String {
        if executable.contains("/") { return executable }
        let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw KubectlError(.notInstalled, "\(executable) was not found on PATH (\(path))", argv: [executable])
    }

    /// Runs `command` to its end or its deadline; stdout is collected, or streamed line by line to `onLine`.
    func run(_ command: KubectlCommand, onLine: (@Sendable (String) -> Void)? = nil) async throws -> Output {
        let argv = try argv(command)
        let environment = subprocessEnvironment
        let stdout = LineCollector()
        let stderr = LineCollector()
        let finished = try await withThrowingTaskGroup(of: Output?.self) { group in
            group.addTask {
                let result = try await Subprocess.run(
                    .path(FilePath(argv[0])),
                    arguments: Arguments(Array(argv.dropFirst())),
                    environment: environment,
                    input: .string(command.input ?? ""),
                    output: .sequence,
                    error: .sequence
                ) { execution in
                    try await withThrowingTaskGroup(of: Void.self) { readers in
                        readers.addTask {
                            if let onLine {
                                for try await line in execution.standardOutput.strings(bufferingPolicy: .unbounded) {
                                    stdout.append(line)
                                    onLine(line)
                                }
                            } else {
                                for try await buffer in execution.standardOutput {
                                    stdout.append(bytes: buffer.withUnsafeBytes { Array($0) })
                                }
                            }
                        }
                        readers.addTask {
                            for try await buffer in execution.standardError {
                                stderr.append(bytes: buffer.withUnsafeBytes { Array($0) })
                            }
                        }
                        try await readers.waitForAll()
                    }
                }
                let exitCode: Int32? =
                    if case .exited(let code) = result.terminationStatus { Int32(code) } else { nil }
                return Output(exitCode: exitCode, stdout: stdout.text, stderr: stderr.text)
            }
            group.addTask {
                try await Task.sleep(for: command.deadline)
                return nil
            }
            // Cancelling the run kills kubectl (swift-subprocess tears the process down on cancellation).
            defer { group.cancelAll() }
            do {
                return try await group.next()!
            } catch let error as KubectlError {
                throw error
            } catch {
                throw KubectlError(.failed, "could not run kubectl", argv: argv, cause: error)
            }
        }
        guard let finished else {
            throw KubectlError(
                .timedOut,
                "kubectl did not finish within \(command.deadline) and was killed",
                stderr: stderr.text,
                argv: argv
            )
        }
        return finished
    }

    /// stdout of a successful run; any other ending throws.
    private func checked(_ command: KubectlCommand) async throws -> String {
        let result = try await run(command)
        guard result.exitCode == 0 else {
            throw KubectlError.failure(exitCode: result.exitCode, stderr: result.stderr, argv: try argv(command))
        }
        return result.stdout
    }

    private func json(_ command: KubectlCommand) async throws -> JSON {
        guard let value = try await optionalJSON(command) else {
            throw KubectlError(.badOutput, "kubectl printed nothing where JSON was expected", argv: try argv(command))
        }
        return value
    }

    /// The JSON kubectl printed, or nil when it printed nothing (`--ignore-not-found` of a missing object).
    private func optionalJSON(_ command: KubectlCommand) async throws -> JSON? {
        let text = try await checked(command)
        guard !text.trimmingWhitespace().isEmpty else { return nil }
        do {
            return try JSON(parsing: text)
        } catch {
            throw KubectlError(
                .badOutput,
                "kubectl printed output that is not JSON: \(text.prefix(200))",
                argv: try argv(command),
                cause: error
            )
        }
    }

    private func items(of list: JSON, command: KubectlCommand) async throws -> [JSON] {
        guard let items = list["items"]?.arrayValue else {
            throw KubectlError(.badOutput, "kubectl printed no list of items", argv: try argv(command))
        }
        return items
    }
}

/// Text appended from concurrent readers.
private final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ line: String) {
        lock.withLock {
            if !bytes.isEmpty { bytes.append(UInt8(ascii: "\n")) }
            bytes += Array(line.utf8)
        }
    }

    func append(bytes more: [UInt8]) {
        lock.withLock { bytes += more }
    }

    var text: String {
        lock.withLock { String(decoding: bytes, as: UTF8.self) }
    }
}
