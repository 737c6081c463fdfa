/// The reference server's command line, parsed with Go's `flag` rules (`-x` or `--x`, `-x=v` or `-x v`,
/// booleans as `-x` or `-x=false`), so scripts and container specs written for it work unchanged.
public struct ServerFlags: Sendable, Equatable {
    public var host = "localhost"
    public var port = "8474"
    public var configFile: String?
    /// Not a reference flag: an addition, defaulting to a limit no reference deployment would notice.
    public var maximumConnections = "\(ToxiproxyServer.Configuration.defaultMaximumConnectionsPerProxy)"
    public var showVersion = false
    public var proxyMetrics = false
    public var runtimeMetrics = false
    public var showHelp = false

    public init() {}

    /// What went wrong, in Go's words; the executable prints it with the usage text and exits 2.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    private enum Kind {
        case string(WritableKeyPath<ServerFlags, String>)
        case optionalString(WritableKeyPath<ServerFlags, String?>)
        case bool(WritableKeyPath<ServerFlags, Bool>)
        /// Accepted for compatibility and ignored, as the reference has ignored `-seed` since 2.9.0.
        case ignoredValue
    }

    private struct Definition {
        var name: String
        var kind: Kind
        var valueName: String?
        var usage: String
        var defaultText: String?
    }

    private static var definitions: [Definition] {
        [
            Definition(
                name: "config",
                kind: .optionalString(\.configFile),
                valueName: "string",
                usage: "JSON file containing proxies to create on startup",
                defaultText: nil
            ),
            Definition(
                name: "host",
                kind: .string(\.host),
                valueName: "string",
                usage: "Host for toxiproxy's API to listen on",
                defaultText: "\"localhost\""
            ),
            Definition(
                name: "max-connections",
                kind: .string(\.maximumConnections),
                valueName: "int",
                usage: "Live connections per proxy above which new clients are closed at once",
                defaultText: "\(ToxiproxyServer.Configuration.defaultMaximumConnectionsPerProxy)"
            ),
            Definition(
                name: "port",
                kind: .string(\.port),
                valueName: "string",
                usage: "Port for toxiproxy's API to listen on",
                defaultText: "\"8474\""
            ),
            Definition(
                name: "proxy-metrics",
                kind: .bool(\.proxyMetrics),
                valueName: nil,
                usage: "enable metrics for proxy traffic",
                defaultText: nil
            ),
            Definition(
                name: "runtime-metrics",
                kind: .bool(\.runtimeMetrics),
                valueName: nil,
                usage: "enable runtime-related metrics",
                defaultText: nil
            ),
            Definition(
                name: "seed",
                kind: .ignoredValue,
                valueName: "int",
                usage: "Seed for randomizing toxics with (ignored, as by the reference since 2.9.0)",
                defaultText: nil
            ),
            Definition(
                name: "version",
                kind: .bool(\.showVersion),
                valueName: nil,
                usage: "print the version",
                defaultText: nil
            ),
        ]
    }

    /// Parses the arguments after the program name. Parsing stops at the first non-flag argument or `--`.
    public static func parse(_ arguments: [String]) throws(ParseError) -> ServerFlags {
        var flags = ServerFlags()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.count > 1, argument.hasPrefix("-") else { break }
            var body = argument.dropFirst()
            if body.hasPrefix("-") {
                body = body.dropFirst()
                if body.isEmpty { break }
            }
            if body.hasPrefix("-") || body.hasPrefix("=") {
                throw ParseError(description: "bad flag syntax: \(argument)")
            }
            var name = String(body)
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            }
            if name == "help" || name == "h" {
                flags.showHelp = true
                return flags
            }
            guard let definition = definitions.first(where: { $0.name == name }) else {
                throw ParseError(description: "flag provided but not defined: -\(name)")
            }
            switch definition.kind {
            case .bool(let keyPath):
                guard let inlineValue else {
                    flags[keyPath: keyPath] = true
                    continue
                }
                guard let value = parseGoBool(inlineValue) else {
                    throw ParseError(
                        description: "invalid boolean value \"\(inlineValue)\" for -\(name): parse error"
                    )
                }
                flags[keyPath: keyPath] = value
            case .string, .optionalString, .ignoredValue:
                let value: String
                if let inlineValue {
                    value = inlineValue
                } else if index < arguments.count {
                    value = arguments[index]
                    index += 1
                } else {
                    throw ParseError(description: "flag needs an argument: -\(name)")
                }
                switch definition.kind {
                case .string(let keyPath): flags[keyPath: keyPath] = value
                case .optionalString(let keyPath): flags[keyPath: keyPath] = value
                case .ignoredValue:
                    guard Int64(value) != nil else {
                        throw ParseError(
                            description: "invalid value \"\(value)\" for flag -\(name): parse error"
                        )
                    }
                case .bool: break
                }
            }
        }
        return flags
    }

    /// Go's `flag.PrintDefaults` layout.
    public static func usage(programName: String) -> String {
        var text = "Usage of \(programName):\n"
        for definition in definitions {
            text += "  -\(definition.name)"
            if let valueName = definition.valueName { text += " \(valueName)" }
            text += "\n    \t\(definition.usage)"
            if let defaultText = definition.defaultText { text += " (default \(defaultText))" }
            text += "\n"
        }
        return text
    }

    private static func parseGoBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }
}
