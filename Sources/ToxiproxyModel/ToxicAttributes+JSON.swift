extension ToxicAttributes {
    /// Merges a JSON attributes object into these values like Go decoding into the typed toxic struct.
    ///
    /// Members apply in document order; each selects the attribute with the same name, else one matching
    /// case-insensitively, and later members overwrite earlier ones. `null` values and unknown keys are
    /// ignored, and a `null` object changes nothing. Values must be integer literals in range (`1.0`,
    /// `1e3` and `1.5` are rejected). As in Go, a bad member does not stop the merge: every valid member
    /// is still applied and the first error is thrown afterwards, so `self` may be partially updated.
    public mutating func merge(_ value: JSONValue, type: ToxicType) throws(APIError) {
        var unmarshal = GoUnmarshal()
        merge(value, type: type, unmarshal: &unmarshal)
        try unmarshal.finish()
    }

    /// The merge with error collection left to the caller, so it can be combined with other fields.
    ///
    /// `fieldPath` names the struct field holding the attributes, for the error about a non-object value;
    /// without it the error names the toxic type as a top-level value.
    mutating func merge(_ value: JSONValue, type: ToxicType, fieldPath: String? = nil, unmarshal: inout GoUnmarshal) {
        let object: JSONObject
        switch value {
        case .null:
            return
        case .object(let decoded):
            object = decoded
        default:
            let goType = "toxics." + type.goTypeName
            if let fieldPath {
                unmarshal.record(GoUnmarshal.fieldError(value.kindName, path: fieldPath, goType: goType))
            } else {
                unmarshal.record(GoUnmarshal.valueError(value.kindName, goType: goType))
            }
            return
        }
        for member in object.members {
            guard let index = GoFold.fieldIndex(forKey: member.key, in: type.attributeNames) else {
                continue
            }
            let name = type.attributeNames[index]
            let path = type.goTypeName + ".attributes." + name
            if let integer = unmarshal.int64(member.value, path: path, goType: type.attributeGoType) {
                self[name] = integer
            }
        }
    }
}
