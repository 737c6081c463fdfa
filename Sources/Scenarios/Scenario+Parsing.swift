import ToxiproxyModel

extension Scenario {
    /// Parses a scenario file or request body, YAML or JSON, and validates it (`validated()`).
    public static func parse(_ text: String) throws(ScenarioError) -> Scenario {
        fatalError("unimplemented")
    }

    /// Decodes and validates a parsed document.
    public init(json: JSONValue) throws(ScenarioError) {
        fatalError("unimplemented")
    }

    /// The scenario with its defaults filled in (`bound`), or the first field at fault.
    public func validated() throws(ScenarioError) -> Scenario {
        fatalError("unimplemented")
    }

    /// The scenario as the JSON body `POST /scenarios` takes; `Scenario(json:)` reads it back equal.
    public var jsonValue: JSONValue {
        fatalError("unimplemented")
    }

    public var jsonText: String {
        fatalError("unimplemented")
    }
}
