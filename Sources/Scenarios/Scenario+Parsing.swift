import ToxiproxyModel

extension Scenario {
    /// Parses a scenario file or request body, YAML or JSON, and validates it (`validated()`).
    ///
    /// A text that starts with `{` is read as JSON first (numbers keep their exact text); if it is not JSON it
    /// is read as YAML (a flow mapping), and when that fails too the JSON error is the one reported.
    public static func parse(_ text: String) throws(ScenarioError) -> Scenario {
        let value: JSONValue
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            do {
                value = try JSONParser.parseFirstValue(Array(text.utf8))
            } catch let jsonError {
                do {
                    value = try YAMLConversion.parse(text)
                } catch {
                    throw ScenarioError(code: .syntax, field: "", reason: "not valid JSON: \(jsonError)")
                }
            }
        } else {
            value = try YAMLConversion.parse(text)
        }
        return try Scenario(json: value)
    }

    /// Decodes and validates a parsed document.
    public init(json: JSONValue) throws(ScenarioError) {
        self = try ScenarioDecoding.scenario(json).validated()
    }

    /// The scenario with its defaults filled in (`bound`), or the first field at fault.
    public func validated() throws(ScenarioError) -> Scenario {
        try self.validate()
    }

    /// The scenario as the JSON body `POST /scenarios` takes; `Scenario(json:)` reads it back equal.
    public var jsonValue: JSONValue {
        ScenarioEncoding.scenario(self)
    }

    public var jsonText: String {
        self.jsonValue.text
    }
}
