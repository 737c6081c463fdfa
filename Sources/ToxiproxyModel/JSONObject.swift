/// A JSON object that keeps every member in document order, duplicates included.
///
/// Go resolves duplicate and differently-cased keys while decoding into a struct, so the members are
/// kept verbatim and the decoding rules are applied by whoever reads them.
public struct JSONObject: Sendable, Equatable {
    /// The members in document order; duplicate keys are kept.
    public var members: [(key: String, value: JSONValue)]

    /// Creates an object from members in document order.
    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    /// The value for `key` using Go's field matching: the last member whose key equals `key` exactly,
    /// otherwise the last member whose key matches it case-insensitively, otherwise `nil`.
    public func value(forKey key: String) -> JSONValue? {
        if let exact = members.last(where: { $0.key == key }) {
            return exact.value
        }
        let folded = GoFold.fold(key)
        return members.last(where: { GoFold.fold($0.key) == folded })?.value
    }

    /// Objects are equal when they have the same members in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
