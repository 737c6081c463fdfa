/// The integer attributes of one toxic: every attribute of its type, in type order.
public struct ToxicAttributes: Sendable, Equatable {
    /// Every attribute of the type in type order; zero unless set.
    public private(set) var values: [(name: String, value: Int64)]

    /// All attributes of `type`, set to zero (no built-in toxic has other defaults).
    public init(type: ToxicType) {
        values = type.attributeNames.map { (name: $0, value: 0) }
    }

    /// The value of the named attribute; reads of unknown names give 0 and writes to them are ignored.
    public subscript(name: String) -> Int64 {
        get {
            values.first { $0.name == name }?.value ?? 0
        }
        set {
            if let index = values.firstIndex(where: { $0.name == name }) {
                values[index].value = newValue
            }
        }
    }

    /// Attribute lists are equal when they hold the same names and values in the same order.
    public static func == (lhs: ToxicAttributes, rhs: ToxicAttributes) -> Bool {
        lhs.values.count == rhs.values.count
            && zip(lhs.values, rhs.values).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
