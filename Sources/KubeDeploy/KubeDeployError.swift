/// A failure of the install, routing or status workflow that is not kubectl's own (those are
/// ``KubectlError``, which may be the `cause`).
public struct KubeDeployError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String {
            case invalidTarget, namespaceNotFound, deploymentNotFound, permissionsMissing, routingConflict
            case unexpectedObject, rolloutFailed, configureFailed, enableFailed, notInstalled, proxyNotReady
        }
        fileprivate let value: Value
        /// A target option is invalid: a name, a host, the image.
        public static let invalidTarget = Code(value: .invalidTarget)
        public static let namespaceNotFound = Code(value: .namespaceNotFound)
        /// The Deployment to route does not exist in the namespace.
        public static let deploymentNotFound = Code(value: .deploymentNotFound)
        /// `kubectl auth can-i` said no to one or more operations the run needs; nothing was changed.
        public static let permissionsMissing = Code(value: .permissionsMissing)
        /// The target already has a hostAliases entry of its own for one of our hostnames.
        public static let routingConflict = Code(value: .routingConflict)
        /// An object came back without a field we need (a Service without a ClusterIP, say).
        public static let unexpectedObject = Code(value: .unexpectedObject)
        public static let rolloutFailed = Code(value: .rolloutFailed)
        /// The caller's proxy configuration over the port-forward failed.
        public static let configureFailed = Code(value: .configureFailed)
        /// A step of enable failed; the message says which and what was rolled back.
        public static let enableFailed = Code(value: .enableFailed)
        /// No proxy of this install in the namespace: run enable first.
        public static let notInstalled = Code(value: .notInstalled)
        /// The proxy Deployment exists but has no ready pod to forward to.
        public static let proxyNotReady = Code(value: .proxyNotReady)
        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message)\n  caused by: \(cause)"
    }
}
