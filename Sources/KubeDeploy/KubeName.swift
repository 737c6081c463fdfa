/// Kubernetes name rules, and names that fit them.
enum KubeName {
    /// DNS-1123 label: the rule for namespaces, Services and label values we generate (at most 63).
    static func isValidLabel(_ name: String) -> Bool {
        guard (1...63).contains(name.count), let first = name.first, let last = name.last else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            && (first.isLowercase || first.isNumber) && (last.isLowercase || last.isNumber)
    }

    /// DNS-1123 subdomain: the rule for Deployment and ConfigMap names.
    static func isValidSubdomain(_ name: String) -> Bool {
        name.count <= 253
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
                isValidLabel(String($0))
            }
    }

    static func isValidHostname(_ name: String) -> Bool {
        name.count <= 253
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }

    /// The parts joined by `-`, lowercased with every other character turned into `-`, and cut to 63
    /// characters with a hash of the whole, so that long Deployment names still give distinct,
    /// valid Service names and label values.
    static func make(_ parts: String...) -> String {
        var name = ""
        for character in parts.joined(separator: "-").lowercased() {
            let mapped: Character = character.isASCII && (character.isLetter || character.isNumber) ? character : "-"
            if mapped == "-" && (name.isEmpty || name.last == "-") { continue }
            name.append(mapped)
        }
        while name.last == "-" { name.removeLast() }
        guard name.count > 63 else { return name }
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let suffix = String(hash, radix: 16)
        var head = String(name.prefix(62 - suffix.count))
        while head.last == "-" { head.removeLast() }
        return head + "-" + suffix
    }
}
