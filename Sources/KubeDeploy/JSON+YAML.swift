extension JSON {
    /// The value as a YAML document (block style, sorted keys), as `--dry-run` prints it.
    ///
    /// Strings that YAML could read as something else (numbers, booleans, null, text with indicators)
    /// are written double-quoted with JSON escapes, which YAML reads back as the same string.
    public var yamlText: String {
        var lines: [String] = []
        Self.yamlLines(self, indent: "", into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Documents separated by `---`, the shape `kubectl apply -f` accepts.
    public static func yamlStream(_ documents: [JSON]) -> String {
        documents.map { "---\n" + $0.yamlText }.joined()
    }

    private static func yamlLines(_ value: JSON, indent: String, into lines: inout [String]) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for key in members.keys.sorted() {
                appendEntry(prefix: indent + yamlScalar(key) + ":", value: members[key]!, indent: indent, into: &lines)
            }
        case .array(let array) where !array.isEmpty:
            for element in array {
                switch element {
                case .object(let members) where !members.isEmpty:
                    // The first member shares the line with the dash; the rest align under it.
                    var nested: [String] = []
                    yamlLines(element, indent: indent + "  ", into: &nested)
                    let first = nested.removeFirst()
                    lines.append(indent + "- " + first.dropFirst(indent.count + 2))
                    lines += nested
                default:
                    appendEntry(prefix: indent + "-", value: element, indent: indent, into: &lines)
                }
            }
        default:
            lines.append(indent + inlineScalar(value))
        }
    }

    private static func appendEntry(prefix: String, value: JSON, indent: String, into lines: inout [String]) {
        switch value {
        case .object(let members) where !members.isEmpty:
            lines.append(prefix)
            yamlLines(value, indent: indent + "  ", into: &lines)
        case .array(let array) where !array.isEmpty:
            lines.append(prefix)
            yamlLines(value, indent: indent + "  ", into: &lines)
        default:
            lines.append(prefix + " " + inlineScalar(value))
        }
    }

    private static func inlineScalar(_ value: JSON) -> String {
        switch value {
        case .object: "{}"
        case .array: "[]"
        case .string(let string): yamlScalar(string)
        default: value.jsonText
        }
    }

    private static func yamlScalar(_ string: String) -> String {
        plainIsSafe(string) ? string : quoted(string)
    }

    /// Plain (unquoted) only for text made of characters that cannot start or form YAML syntax, and that
    /// does not read as another type in YAML 1.1 or 1.2 (kubectl's parser follows 1.1: `yes`, `on`, `0x1F`).
    private static func plainIsSafe(_ string: String) -> Bool {
        guard let first = string.unicodeScalars.first, first.properties.isAlphabetic || first == "/" else {
            return false
        }
        let allowed = string.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "-_./".unicodeScalars.contains(scalar))
        }
        let reserved: Set<String> = [
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
        ]
        return allowed && !reserved.contains(string.lowercased())
    }
}
