/// The direction of a link a toxic applies to.
public enum StreamDirection: String, Sendable, CaseIterable {
    /// Client to upstream server.
    case upstream
    /// Upstream server to client.
    case downstream

    /// Parses a `stream` value case-insensitively like Go's `strings.ToLower` switch; `""` is invalid.
    public init?(parsing s: String) {
        // Only ASCII letters can lower-case into "upstream"/"downstream" under Go's rules, so ASCII
        // lower-casing is exact and keeps e.g. "UPſTREAM" invalid as in Go.
        let lowered = String(
            decoding: s.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 },
            as: UTF8.self
        )
        self.init(rawValue: lowered)
    }
}
