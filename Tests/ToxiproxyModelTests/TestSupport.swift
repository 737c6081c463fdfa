import ToxiproxyModel

/// Parses `text` as a request body would be parsed.
func json(_ text: String) throws -> JSONValue {
    try JSONParser.parseFirstValue(Array(text.utf8))
}

/// The Go-style message of the syntax error `bytes` produce, or `nil` if they parse.
func syntaxError(_ bytes: [UInt8]) -> String? {
    do {
        _ = try JSONParser.parseFirstValue(bytes)
        return nil
    } catch {
        return error.message
    }
}

/// The Go-style message of the syntax error `text` produces, or `nil` if it parses.
func syntaxError(_ text: String) -> String? {
    syntaxError(Array(text.utf8))
}

/// The error `body` throws, or `nil` if it returns normally.
func thrownError<E: Error>(_ body: () throws(E) -> Void) -> E? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

/// Builds an object value from key/value pairs, keeping order and duplicates.
func object(_ members: (String, JSONValue)...) -> JSONValue {
    .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
}
