import ToxiproxyModel
import Yams

/// Turns a scenario file's text into the `JSONValue` the decoder reads, so YAML and JSON go through one
/// decoder and name fields the same way.
enum YAMLConversion {
    /// More nodes than this is not a scenario but an attack (aliases can multiply a small file).
    static let maximumNodes = 200_000

    /// YAML 1.1's `yes`/`no`/`on`/`off` booleans are left out: they would turn a proxy named `on` into a bool.
    /// So are its base-60 numbers: `1:30` would be 90, read as 90 ms where 1m30s was meant. Timestamps stay
    /// strings.
    private static let resolver: Resolver = {
        // The patterns are constants, so the regular expressions always compile.
        let bool = try! Resolver.Rule(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
        let int = try! Resolver.Rule(
            .int,
            "^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"
        )
        let float = try! Resolver.Rule(
            .float,
            #"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#
        )
        return Resolver.default.replacing(bool).replacing(int).replacing(float).removing(.timestamp)
    }()

    /// Parses YAML (or JSON, a subset of it) into a value; `.syntax` errors carry the line when Yams gives one.
    static func parse(_ text: String) throws(ScenarioError) -> JSONValue {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, Self.resolver)
        } catch let error as YamlError {
            throw ScenarioError(code: .syntax, field: "", reason: "not valid YAML: " + Self.describe(error))
        } catch {
            throw ScenarioError(code: .syntax, field: "", reason: "not valid YAML: \(error)")
        }
        guard let root else {
            throw ScenarioError(code: .syntax, field: "", reason: "the scenario is empty")
        }
        var budget = Self.maximumNodes
        return try Self.convert(root, path: "", budget: &budget)
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            "line \(mark.line), column \(mark.column): \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            "line \(context.mark.line): duplicate key \(duplicates.sorted().joined(separator: ", "))"
        case .reader(let problem, _, _, _):
            problem
        default:
            "\(error)"
        }
    }

    private static func convert(_ node: Node, path: String, budget: inout Int) throws(ScenarioError) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw ScenarioError.invalid(path, "the document is too large (more than \(Self.maximumNodes) values)")
        }
        switch node {
        case .scalar(let scalar):
            return Self.convert(scalar)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            for (index, element) in sequence.enumerated() {
                elements.append(try Self.convert(element, path: "\(path)[\(index)]", budget: &budget))
            }
            return .array(elements)
        case .mapping(let mapping):
            var members: [(key: String, value: JSONValue)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ScenarioError.invalid(path, "keys must be plain words, got a \(Self.kind(of: key))")
                }
                let name = keyScalar.string
                let childPath = path.isEmpty ? name : "\(path).\(name)"
                members.append((key: name, value: try Self.convert(value, path: childPath, budget: &budget)))
            }
            return .object(JSONObject(members))
        case .alias:
            throw ScenarioError.invalid(path, "aliases are not supported")
        }
    }

    private static func kind(of node: Node) -> String {
        switch node {
        case .scalar: "scalar"
        case .sequence: "list"
        case .mapping: "mapping"
        case .alias: "alias"
        }
    }

    /// Numbers keep their text when Swift reads it as written, so errors quote the file; other spellings YAML
    /// allows (`0x1F`, `1_000`) are normalised to decimal.
    private static func convert(_ scalar: Node.Scalar) -> JSONValue {
        let text = scalar.string
        switch Tag.Name(rawValue: Node.scalar(scalar).tag.rawValue) {
        case .null:
            return .null
        case .bool:
            return .bool(Bool.construct(from: scalar) ?? false)
        case .int:
            if Int64(text) != nil { return .number(text) }
            if let value = Int64.construct(from: scalar) { return .number(String(value)) }
            return .number(text)
        case .float:
            if let value = Double(text), value.isFinite { return .number(text) }
            if let value = Double.construct(from: scalar), value.isFinite { return .number(String(value)) }
            return .number(text)
        default:
            return .string(text)
        }
    }
}
