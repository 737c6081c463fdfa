/// Go's `encoding/json` case folding for matching object keys to struct fields.
///
/// Since Go 1.21 a key is folded rune by rune to `unicode.ToUpper(unicode.ToLower(r))`. That is why the
/// Kelvin sign, the long s and the dotted/dotless i match ASCII letters, which `lowercased()` would miss.
enum GoFold {
    /// The folded form of `s`; two keys match case-insensitively when their folded forms are equal.
    static func fold(_ s: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            result.append(fold(scalar))
        }
        return String(result)
    }

    /// The index of the field that `key` selects: an exact match first, else the first case-insensitive one.
    static func fieldIndex(forKey key: String, in fieldNames: [String]) -> Int? {
        if let exact = fieldNames.firstIndex(of: key) {
            return exact
        }
        let folded = fold(key)
        return fieldNames.firstIndex { fold($0) == folded }
    }

    private static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            let value = scalar.value
            if value >= 0x61 && value <= 0x7A {
                return Unicode.Scalar(value - 0x20)!
            }
            return scalar
        }
        // Go's ToLower is the simple mapping; Swift only exposes the full one, which differs for U+0130 alone.
        if scalar.value == 0x0130 {
            return "I"
        }
        let lower = single(scalar.properties.lowercaseMapping) ?? scalar
        return single(lower.properties.uppercaseMapping) ?? lower
    }

    private static func single(_ mapping: String) -> Unicode.Scalar? {
        let scalars = mapping.unicodeScalars
        guard let first = scalars.first, scalars.count == 1 else {
            return nil
        }
        return first
    }
}
