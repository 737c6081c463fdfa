/// A scenario that cannot be run, with the exact field at fault.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The file or body is not YAML/JSON.
        public static let syntax = Code("syntax")
        /// A field has the wrong type, an out-of-range value, or is unknown or missing.
        public static let invalidField = Code("invalidField")
        /// A proxy the scenario names does not exist (the server's check).
        public static let unknownProxy = Code("unknownProxy")
        /// An assertion expression does not parse, or names an unknown figure.
        public static let invalidAssertion = Code("invalidAssertion")
    }

    public var code: Code
    /// The path of the field at fault, e.g. `timeline[2].repeat.phases[0].latency.ms`; empty for the whole
    /// document.
    public var field: String
    /// What is wrong and what would be right, without the field path.
    public var reason: String

    public init(code: Code, field: String, reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public static func invalid(_ field: String, _ reason: String) -> ScenarioError {
        ScenarioError(code: .invalidField, field: field, reason: reason)
    }

    /// `field: reason`, the text the API's 400 carries.
    public var description: String { self.field.isEmpty ? self.reason : "\(self.field): \(self.reason)" }

    public static func == (lhs: ScenarioError, rhs: ScenarioError) -> Bool {
        lhs.code == rhs.code && lhs.field == rhs.field && lhs.reason == rhs.reason
    }
}
