import Foundation

/// A kubectl call that failed: what was run, what kubectl said, and what to do about it.
public struct KubectlError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String {
            case notInstalled, failed, timedOut, forbidden, notFound, conflict, unreachable, badOutput
            case portForwardFailed
        }
        fileprivate let value: Value
        /// No kubectl binary on PATH.
        public static let notInstalled = Code(value: .notInstalled)
        /// kubectl exited non-zero for a reason not covered by a more specific code.
        public static let failed = Code(value: .failed)
        /// The call ran past its deadline and kubectl was killed.
        public static let timedOut = Code(value: .timedOut)
        /// The API server refused the user (RBAC).
        public static let forbidden = Code(value: .forbidden)
        public static let notFound = Code(value: .notFound)
        /// A server-side apply conflict or an optimistic-concurrency conflict.
        public static let conflict = Code(value: .conflict)
        /// The cluster could not be reached (connection refused, DNS, TLS, credentials plugin).
        public static let unreachable = Code(value: .unreachable)
        /// kubectl succeeded but printed something we could not read.
        public static let badOutput = Code(value: .badOutput)
        /// The port-forward did not start, or ended before it printed its local port.
        public static let portForwardFailed = Code(value: .portForwardFailed)
        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?
    /// kubectl's standard error, trimmed.
    public var stderr: String
    /// The full command line that was run, kubectl first.
    public var argv: [String]

    public init(
        _ code: Code,
        _ message: String,
        stderr: String = "",
        argv: [String] = [],
        cause: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.stderr = stderr
        self.argv = argv
        self.cause = cause
    }

    /// kubectl's failure with its code read from its error text.
    static func failure(exitCode: Int32?, stderr: String, argv: [String]) -> KubectlError {
        let text = stderr.trimmingWhitespace()
        let code: Code
        if text.contains("(Forbidden)") || text.contains("is forbidden") {
            code = .forbidden
        } else if text.contains("(NotFound)") || text.contains("not found") {
            code = .notFound
        } else if text.contains("(Conflict)") || text.contains("Apply failed with") || text.contains("conflict") {
            code = .conflict
        } else if text.contains("Unable to connect to the server") || text.contains("connection refused")
            || text.contains("no such host") || text.contains("dial tcp") || text.contains("x509")
            || text.contains("You must be logged in")
        {
            code = .unreachable
        } else {
            code = .failed
        }
        let status = exitCode.map { "exited with status \($0)" } ?? "was killed by a signal"
        // Name the verb (`get`, `auth can-i`…), not the global flags before it.
        let verb = argv.dropFirst().drop { $0.hasPrefix("-") }.prefix { !$0.hasPrefix("-") }.prefix(2)
        return KubectlError(code, "kubectl \(verb.joined(separator: " ")) \(status)", stderr: text, argv: argv)
    }

    /// What a person can do next, by code.
    public var advice: String {
        switch code {
        case .notInstalled: "Install kubectl and put it on PATH."
        case .timedOut:
            "The cluster did not answer in time: check that it is reachable (kubectl cluster-info) and retry."
        case .forbidden:
            "Your user lacks a permission: ask a cluster admin for the Role toxictl needs (see the README)."
        case .notFound: "Check the namespace, the name, and the context kubectl is using."
        case .conflict:
            "Another field manager owns these fields, or the object changed meanwhile: inspect it and retry."
        case .unreachable:
            "kubectl cannot reach the cluster: check the context (--context), kubeconfig and your credentials."
        case .portForwardFailed:
            "Check that the proxy pod is running and ready, and that you may create pods/portforward."
        default: "Read kubectl's message above; rerun the command shown to see it directly."
        }
    }

    public var description: String {
        var text = message
        if !stderr.isEmpty { text += "\n  kubectl said: " + stderr.replacingOccurrences(of: "\n", with: "\n    ") }
        if !argv.isEmpty { text += "\n  command: " + argv.map(Self.shellQuoted).joined(separator: " ") }
        if let cause { text += "\n  caused by: \(cause)" }
        return text + "\n  what to do: " + advice
    }

    static func shellQuoted(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_=./:,@%+".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
