import Foundation
import ToxiproxyTestSupport

/// What the spec (§3, toxiproxy-compat.md) says the admin API answers to a request.
struct Expectation: Sendable, CustomStringConvertible {
    enum Body: Sendable {
        case any
        /// 405, 204: no body.
        case empty
        /// The router's `404 page not found\n`.
        case pageNotFound
        /// `{"error":"<message prefix>...","status":<status>}\n`.
        case error(String)
        /// `/populate`'s own error object: `{"error":...,"status":...,"proxies":...}`.
        case populateError(String)
        /// The browser block's plain text.
        case browserBlocked
    }

    var statuses: Set<Int>
    var body: Body

    static func status(_ status: Int, _ body: Body = .any) -> Expectation {
        Expectation(statuses: [status], body: body)
    }

    static let methodNotAllowed = Expectation.status(405, .empty)
    static let pageNotFound = Expectation.status(404, .pageNotFound)
    static let proxyNotFound = Expectation.status(404, .error("proxy not found"))
    static let toxicNotFound = Expectation.status(404, .error("toxic not found"))
    static let badBody = Expectation.status(400, .error("bad request body: "))
    static let tooLarge = Expectation.status(413, .error("request body too large"))

    var description: String {
        "\(self.statuses.sorted().map(String.init).joined(separator: " or ")) (\(self.body))"
    }

    /// Nil when `reply` is what is expected, else why not.
    func mismatch(_ reply: RawHTTP.Reply, method: String) -> String? {
        guard let status = reply.status else { return "no HTTP answer (connection closed), expected \(self)" }
        guard self.statuses.contains(status) else { return "got \(reply), expected \(self)" }
        let text = reply.text
        switch self.body {
        case .any:
            return nil
        case .empty:
            return reply.body.isEmpty ? nil : "expected an empty body, got \(reply)"
        case .pageNotFound:
            return method == "HEAD" || text == "404 page not found\n" ? nil : "expected the router's 404, got \(reply)"
        case .error(let prefix):
            let ok =
                text.hasPrefix(#"{"error":"\#(prefix)"#) && text.hasSuffix(#","status":\#(status)}"# + "\n")
            return ok ? nil : "expected an error object starting \(prefix), got \(reply)"
        case .populateError(let prefix):
            let ok = text.hasPrefix(#"{"error":"\#(prefix)"#) && text.contains(#","status":\#(status),"proxies":"#)
            return ok ? nil : "expected a populate error starting \(prefix), got \(reply)"
        case .browserBlocked:
            return text == "User agent not allowed\n" ? nil : "expected the browser block, got \(reply)"
        }
    }
}

/// One request and what must come back.
struct AbuseStep: Sendable {
    var method: String
    var target: String
    var bytes: [UInt8]
    var expect: Expectation
}

/// Requests that belong together and run in order on one worker (an odd name's whole life); most are one
/// request.
struct AbuseCase: Sendable {
    var category: String
    var steps: [AbuseStep]
}

extension AbuseCase {
    /// A body over the limit (413).
    var isOversized: Bool { self.category.hasPrefix(AbuseGenerator.oversizedCategory) }
    /// An oversized body framed by Content-Length: the server answers 413, stops reading, and keeps the
    /// connection until its read timeout even after the client has gone.
    var lingersAfterAnswer: Bool { self.isOversized && !self.category.hasSuffix("chunked") }
}

/// Seeded generator of bad (and a few good) admin requests against a server holding proxy `target` (disabled)
/// with toxic `fixture`.
struct AbuseGenerator {
    static let proxy = "target"
    static let toxic = "fixture"
    static let bodyLimit = 1024 * 1024
    static let oversizedCategory = "body over the 1 MiB limit"

    private var random: SplitMix64
    private var serial = 0

    init(seed: UInt64) {
        self.random = SplitMix64(seed: seed)
    }

    /// Cases until they hold `requests` requests in all.
    mutating func cases(requests: Int) -> [AbuseCase] {
        var cases: [AbuseCase] = []
        var count = 0
        while count < requests {
            let next = self.next()
            count += next.steps.count
            cases.append(next)
        }
        return cases
    }

    mutating func next() -> AbuseCase {
        self.serial += 1
        let roll = Int(self.random.next() % 1000)
        switch roll {
        case 0..<280: return self.malformedJSON()
        case 280..<460: return self.wrongTypes()
        case 460..<540: return self.missingOrInvalidFields()
        case 540..<650: return self.wrongMethod()
        case 650..<665: return self.extensionMethod()
        case 665..<755: return self.unknownPath()
        case 755..<835: return self.unknownName()
        case 835..<875: return self.oddNameLifecycle()
        case 875..<905: return self.conflict()
        case 905..<925: return self.browser()
        case 925..<955: return self.malformedHTTP()
        case 955..<965: return self.hugeBody()
        default: return self.chunkedMalformedJSON()
        }
    }

    // MARK: Helpers

    private mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int(self.random.next() % UInt64(choices.count))]
    }

    private mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(self.random.next() % UInt64(range.count))
    }

    private func single(
        _ category: String,
        _ method: String,
        _ target: String,
        body: String?,
        _ expect: Expectation
    )
        -> AbuseCase
    {
        self.single(category, method, target, bytes: body.map { Array($0.utf8) }, expect)
    }

    private func single(
        _ category: String,
        _ method: String,
        _ target: String,
        bytes: [UInt8]?,
        headers: [(String, String)] = [("User-Agent", RawHTTP.userAgent)],
        _ expect: Expectation
    ) -> AbuseCase {
        AbuseCase(
            category: category,
            steps: [
                AbuseStep(
                    method: method,
                    target: target,
                    bytes: RawHTTP.request(method, target, body: bytes, headers: headers),
                    expect: expect
                )
            ]
        )
    }

    private static let proxyPath = "/proxies/\(proxy)"
    private static let toxicsPath = "/proxies/\(proxy)/toxics"
    private static let toxicPath = "/proxies/\(proxy)/toxics/\(toxic)"

    /// A body-reading route and a valid body for it (valid bodies are only ever sent broken, except where
    /// noted), with the answer a broken body gets there.
    private mutating func bodyRoute() -> (method: String, target: String, template: String, broken: Expectation) {
        let unique = "abuse-\(self.serial)"
        switch self.int(0...6) {
        case 0, 1:
            return (
                "POST", "/proxies",
                #"{"name":"\#(unique)","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","enabled":false}"#, .badBody
            )
        case 2:
            return (
                "POST", "/populate",
                #"[{"name":"\#(unique)","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","enabled":false}]"#,
                .status(400, .populateError("bad request body: "))
            )
        case 3:
            return (
                self.pick(["POST", "PATCH"]), Self.proxyPath,
                #"{"listen":"127.0.0.1:0","upstream":"127.0.0.1:2","enabled":false}"#, .badBody
            )
        case 4, 5:
            return (
                "POST", Self.toxicsPath,
                #"{"name":"\#(unique)","type":"latency","stream":"upstream","toxicity":0.5,"#
                    + #""attributes":{"latency":5,"jitter":1}}"#,
                .badBody
            )
        default:
            return (
                self.pick(["POST", "PATCH"]), Self.toxicPath,
                #"{"toxicity":0.5,"attributes":{"latency":7,"jitter":2}}"#,
                .badBody
            )
        }
    }

    // MARK: Malformed and truncated JSON → 400

    /// Offsets of structural characters (outside strings) and of string interiors in `json`.
    private static func positions(_ json: [UInt8]) -> (structural: [Int], insideStrings: [Int]) {
        var structural: [Int] = []
        var inside: [Int] = []
        var inString = false
        var escaped = false
        for (offset, byte) in json.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    structural.append(offset)
                } else {
                    inside.append(offset)
                }
            } else {
                if byte == UInt8(ascii: "\"") { inString = true }
                if Array("{}[]:,\"".utf8).contains(byte) { structural.append(offset) }
            }
        }
        return (structural, inside)
    }

    private static let classicInvalid = [
        "{,}", #"{"a"}"#, #"{"a":}"#, #"{"a" 1}"#, "[1,]", #"{"a":1,}"#, "{'a':1}", "{a:1}", #"{"a":01}"#,
        #"{"a":.5}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":-}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":NaN}"#,
        #"{"a":Infinity}"#, #"{"a":"x" "b":1}"#, #"{"a":[1 2]}"#, #"{"a":{"b":1]}"#, "]", "}", ",", ":", "nul",
        "tru", "fals", "\u{FEFF}{}", "/* comment */ {}", "{\"a\":\"\u{7F}\u{1}\"}", "\"unterminated", "{\"a\":\"\\",
    ]

    private mutating func malformedJSON() -> AbuseCase {
        let route = self.bodyRoute()
        var json = Array(route.template.utf8)
        let (structural, inside) = Self.positions(json)
        let kind: String
        switch self.int(0...6) {
        case 0, 1:
            kind = "truncated"
            json = Array(json.prefix(self.int(0...(json.count - 1))))
        case 2:
            kind = "structural character replaced"
            json[self.pick(structural)] = self.pick(Array(";=)#x@".utf8))
        case 3:
            kind = "control character in a string"
            json.insert(UInt8(self.int(0...0x1F)), at: self.pick(inside))
        case 4:
            kind = "bad escape"
            json.insert(
                contentsOf: Array(self.pick([#"\q"#, #"\x41"#, #"\u12G4"#, #"\U0041"#, #"\'"#]).utf8),
                at: self.pick(inside)
            )
        case 5:
            kind = "classic invalid document"
            json = Array(self.pick(Self.classicInvalid).utf8)
        default:
            let depth = self.pick([10_001, 20_000, 100_000])
            kind = "nested \(depth) deep"
            json = Array(String(repeating: "[", count: depth).utf8)
            if self.random.next() % 2 == 0 {
                json += Array(String(repeating: "]", count: depth).utf8)
            }
        }
        return self.single("malformed JSON: \(kind)", route.method, route.target, bytes: json, route.broken)
    }

    /// The same, framed with `Transfer-Encoding: chunked` in random chunk sizes.
    private mutating func chunkedMalformedJSON() -> AbuseCase {
        let route = self.bodyRoute()
        let json = Array(route.template.utf8.prefix(self.int(0...(route.template.utf8.count - 1))))
        var body: [UInt8] = []
        var offset = 0
        while offset < json.count {
            let size = min(self.int(1...16), json.count - offset)
            body += Array("\(String(size, radix: 16))\r\n".utf8) + json[offset..<offset + size] + Array("\r\n".utf8)
            offset += size
        }
        body += Array("0\r\n\r\n".utf8)
        return self.single(
            "malformed JSON: truncated, chunked",
            route.method,
            route.target,
            bytes: body,
            headers: [("User-Agent", RawHTTP.userAgent), ("Transfer-Encoding", "chunked")],
            route.broken
        )
    }

    // MARK: Wrong JSON types → 400

    private static let notStrings = ["1", "-2.5", "true", "false", "[]", #"["a"]"#, "{}", #"{"a":"b"}"#]
    private static let notBools = ["1", "0", #""true""#, #""false""#, "[]", "{}", #"[true]"#]
    private static let notIntegers = [
        #""1""#, "1.5", "1.0", "1e3", "-0.5", "true", "[]", "{}", "9223372036854775808", "-9223372036854775809",
        "1E2",
    ]
    private static let notNumbers = [#""1""#, #""0.5""#, "true", "[]", "{}", #"[1]"#]
    private static let notObjects = ["1", #""x""#, "true", "[]", #"[{}]"#]

    private mutating func wrongTypes() -> AbuseCase {
        let unique = "abuse-\(self.serial)"
        let key = { (name: String, upper: Bool) in upper ? name.uppercased() : name }
        let upper = self.random.next() % 4 == 0
        let (method, target, body, expect): (String, String, String, Expectation)
        switch self.int(0...9) {
        case 0:
            let field = self.pick(["name", "listen", "upstream"])
            var fields = ["name": #""\#(unique)""#, "listen": #""127.0.0.1:0""#, "upstream": #""127.0.0.1:1""#]
            fields[field] = self.pick(Self.notStrings)
            let object = fields.sorted { $0.key < $1.key }.map { #""\#(key($0.key, upper))":\#($0.value)"# }
            (method, target, body, expect) =
                ("POST", "/proxies", "{" + object.joined(separator: ",") + #","enabled":false}"#, .badBody)
        case 1:
            (method, target, body, expect) = (
                "POST", "/proxies",
                #"{"name":"\#(unique)","upstream":"127.0.0.1:1","\#(key("enabled", upper))":\#(self.pick(Self.notBools))}"#,
                .badBody
            )
        case 2:
            let top = self.pick(["[]", #""proxy""#, "1", "true", "[{}]"])
            (method, target, body, expect) = (self.pick(["POST", "PATCH"]), Self.proxyPath, top, .badBody)
        case 3:
            let field = self.pick(["listen", "upstream"])
            (method, target, body, expect) = (
                self.pick(["POST", "PATCH"]), Self.proxyPath,
                #"{"\#(key(field, upper))":\#(self.pick(Self.notStrings))}"#, .badBody
            )
        case 4:
            (method, target, body, expect) = (
                self.pick(["POST", "PATCH"]), Self.proxyPath, #"{"enabled":\#(self.pick(Self.notBools))}"#, .badBody
            )
        case 5:
            let top = self.pick(["{}", #""x""#, "1", "true", "[1]", #"[[]]"#, #"[{"name":1}]"#])
            (method, target, body, expect) = (
                "POST", "/populate", top, .status(400, .populateError("bad request body: "))
            )
        case 6:
            let field = self.pick(["name", "type", "stream"])
            var fields = ["name": #""\#(unique)""#, "type": #""latency""#, "stream": #""upstream""#]
            fields[field] = self.pick(Self.notStrings)
            let object = fields.sorted { $0.key < $1.key }.map { #""\#(key($0.key, upper))":\#($0.value)"# }
            (method, target, body, expect) = (
                "POST", Self.toxicsPath, "{" + object.joined(separator: ",") + "}", .badBody
            )
        case 7:
            let wrong = self.pick([
                #""toxicity":\#(self.pick(Self.notNumbers))"#,
                #""attributes":\#(self.pick(Self.notObjects))"#,
                #""attributes":{"\#(key("latency", upper))":\#(self.pick(Self.notIntegers))}"#,
                #""attributes":{"jitter":\#(self.pick(Self.notIntegers))}"#,
            ])
            (method, target, body, expect) = (
                "POST", Self.toxicsPath, #"{"name":"\#(unique)","type":"latency",\#(wrong)}"#, .badBody
            )
        case 8:
            let wrong = self.pick([
                #"{"toxicity":\#(self.pick(Self.notNumbers))}"#,
                #"{"attributes":\#(self.pick(Self.notObjects))}"#,
                #"{"attributes":{"latency":\#(self.pick(Self.notIntegers))}}"#,
                #"{"attributes":{"jitter":5,"latency":\#(self.pick(Self.notIntegers))}}"#,
                #"{"attributes":{"latency":\#(self.pick(Self.notIntegers)),"jitter":5}}"#,
                "[]", "1", #""x""#, "true",
            ])
            (method, target, body, expect) = (self.pick(["POST", "PATCH"]), Self.toxicPath, wrong, .badBody)
        default:
            (method, target, body, expect) = (
                "POST", "/proxies",
                #"{"name":"\#(unique)","upstream":"127.0.0.1:1","listen":"\#(unique)","#
                    + #""enabled":false,"toxics":7,"Logger":[],"name":\#(self.pick(Self.notStrings))}"#, .badBody
            )
        }
        return self.single("wrong JSON type", method, target, body: body, expect)
    }

    // MARK: Missing or invalid fields → 400

    private mutating func missingOrInvalidFields() -> AbuseCase {
        let unique = "abuse-\(self.serial)"
        let (method, target, body, expect): (String, String, String, Expectation) = self.pick([
            ("POST", "/proxies", #"{"upstream":"127.0.0.1:1"}"#, .status(400, .error("missing required field: name"))),
            (
                "POST", "/proxies", #"{"name":"","upstream":"127.0.0.1:1"}"#,
                .status(400, .error("missing required field: name"))
            ),
            ("POST", "/proxies", #"{"name":"\#(unique)"}"#, .status(400, .error("missing required field: upstream"))),
            (
                "POST", "/proxies", #"{"name":"\#(unique)","upstream":""}"#,
                .status(400, .error("missing required field: upstream"))
            ),
            ("POST", "/proxies", "null", .status(400, .error("missing required field: name"))),
            ("POST", "/proxies", "", .status(400, .error("bad request body: "))),
            ("POST", "/proxies", "  \r\n\t ", .status(400, .error("bad request body: "))),
            (
                "POST", "/populate", #"[{"name":"\#(unique)","upstream":"x"},{"upstream":"x"}]"#,
                .status(400, .populateError("missing required field: name at proxy 2"))
            ),
            (
                "POST", "/populate", #"[{"name":"\#(unique)"}]"#,
                .status(400, .populateError("missing required field: upstream at proxy 1"))
            ),
            ("POST", Self.toxicsPath, #"{"name":"\#(unique)"}"#, .status(400, .error("invalid toxic type"))),
            ("POST", Self.toxicsPath, #"{"type":"bogus"}"#, .status(400, .error("invalid toxic type"))),
            ("POST", Self.toxicsPath, #"{"type":"LATENCY"}"#, .status(400, .error("invalid toxic type"))),
            ("POST", Self.toxicsPath, #"{"type":"latency","stream":""}"#, .status(400, .error("stream was invalid"))),
            (
                "POST", Self.toxicsPath, #"{"type":"latency","stream":"sideways"}"#,
                .status(400, .error("stream was invalid"))
            ),
            ("POST", Self.toxicsPath, "", .status(400, .error("bad request body: "))),
            (self.pick(["POST", "PATCH"]), Self.toxicPath, "", .status(400, .error("bad request body: "))),
        ])
        return self.single("missing or invalid field", method, target, body: body, expect)
    }

    // MARK: Methods → 405

    /// Known paths and the methods they do not take (the reference's 405, empty body).
    private static let wrongMethods: [(String, [String])] = [
        ("/version", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
        ("/proxies", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
        ("/populate", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
        ("/reset", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
        ("/proxies/{p}", ["PUT", "OPTIONS", "HEAD", "TRACE"]),
        ("/proxies/{p}/toxics", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE"]),
        ("/proxies/{p}/toxics/{t}", ["PUT", "OPTIONS", "HEAD", "TRACE"]),
    ]

    private mutating func knownPath(_ pattern: String) -> String {
        // The route decides the 405, whether or not the proxy or toxic exists.
        let proxy = self.pick([Self.proxy, "nope-\(self.serial)", "%C3%BC"])
        let toxic = self.pick([Self.toxic, "nope-\(self.serial)"])
        return pattern.replacingOccurrences(of: "{p}", with: proxy).replacingOccurrences(of: "{t}", with: toxic)
    }

    private mutating func wrongMethod() -> AbuseCase {
        let (pattern, methods) = self.pick(Self.wrongMethods)
        let method = self.pick(methods)
        let target = self.knownPath(pattern)
        let body: String? = method == "HEAD" || method == "TRACE" || self.random.next() % 2 == 0 ? nil : "{}"
        return self.single("wrong method", method, target, body: body, .methodNotAllowed)
    }

    /// Methods outside the common nine, which the HTTP parser accepts and the reference's router answers with
    /// 405 on a known path like any other.
    private mutating func extensionMethod() -> AbuseCase {
        let (pattern, _) = self.pick(Self.wrongMethods)
        let method = self.pick(["PURGE", "PROPFIND", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH"])
        return self.single(
            "extension method on a known path",
            method,
            self.knownPath(pattern),
            body: nil,
            .methodNotAllowed
        )
    }

    // MARK: Unknown paths and names → 404

    private mutating func unknownPath() -> AbuseCase {
        let target = self.pick([
            "/", "/foo", "/proxies/", "\(Self.proxyPath)/", "\(Self.toxicsPath)/", "\(Self.toxicPath)/",
            "\(Self.proxyPath)/x", "\(Self.toxicPath)/x", "\(Self.toxicPath)/x/y", "/version/x", "/PROXIES",
            "/Version", "/reset/x", "/populate/x", "/metrics", "/proxies/a/b/c/d/e",
            "/\(String(repeating: "x/", count: self.int(1...200)))", "/toxics", "/proxies/\(Self.proxy)/toxic",
            "/\(self.serial)",
        ])
        // Not here: `//` and `..` segments, which gorilla/mux may clean and redirect (301) rather than 404.
        let method = self.pick(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        let body: String? = self.random.next() % 3 == 0 ? #"{"name":"x"}"# : nil
        return self.single("unknown path", method, target, body: body, .pageNotFound)
    }

    private mutating func unknownName() -> AbuseCase {
        let name = self.percentEncoded(self.oddName(), everything: self.random.next() % 4 == 0)
        let brokenBody = #"{"listen": ]"#
        let (method, target, body, expect): (String, String, String?, Expectation) = self.pick([
            ("GET", "/proxies/\(name)", nil, .proxyNotFound),
            ("DELETE", "/proxies/\(name)", nil, .proxyNotFound),
            // The proxy is looked up before the body is read, so a broken body still gets 404.
            ("POST", "/proxies/\(name)", brokenBody, .proxyNotFound),
            ("PATCH", "/proxies/\(name)", #"{"enabled":true}"#, .proxyNotFound),
            ("GET", "/proxies/\(name)/toxics", nil, .proxyNotFound),
            ("POST", "/proxies/\(name)/toxics", brokenBody, .proxyNotFound),
            ("POST", "/proxies/\(name)/toxics", #"{"type":"noop"}"#, .proxyNotFound),
            ("GET", "/proxies/\(name)/toxics/\(Self.toxic)", nil, .proxyNotFound),
            ("PATCH", "/proxies/\(name)/toxics/\(Self.toxic)", "{}", .proxyNotFound),
            ("DELETE", "/proxies/\(name)/toxics/\(Self.toxic)", nil, .proxyNotFound),
            ("GET", "\(Self.toxicsPath)/\(name)", nil, .toxicNotFound),
            ("POST", "\(Self.toxicsPath)/\(name)", brokenBody, .toxicNotFound),
            ("PATCH", "\(Self.toxicsPath)/\(name)", "{}", .toxicNotFound),
            ("DELETE", "\(Self.toxicsPath)/\(name)", nil, .toxicNotFound),
            // Broken percent-encoding: the spec has no status of its own for it (Go's URL parser answers
            // 400 before routing; the name cannot exist either way).
            (
                "GET", "/proxies/\(self.pick(["%zz", "%", "a%2", "%G0", "%%"]))", nil,
                Expectation(statuses: [400, 404], body: .any)
            ),
        ])
        return self.single("unknown name", method, target, body: body, expect)
    }

    // MARK: Odd names, created, used and deleted

    private static let namePieces = [
        "a", "Z", "0", "-", "_", "~", ".", " ", "%", "%2F", "?", "#", "&", "+", "=", ";", ":", "@", "!", "$", "'",
        "(", ")", "*", ",", "[", "]", "{", "}", "|", "^", "`", "<", ">", "\"", "\\", "\t", "\u{1}", "\u{7F}", "ü",
        "名前", "😀", "👩‍👩‍👧", "\u{200B}", "\u{202E}", "ﷺ", "e\u{301}", "\u{FFFD}", "𝔘",
    ]

    /// A name of 1 to 2,000 pieces (at most about 6,000 bytes): Unicode, emoji, spaces, percent signs, quotes, backslashes, control
    /// characters; never `/` (which the reference can create but never address again), never `.` or `..`
    /// alone.
    private mutating func oddName() -> String {
        let length = self.random.next() % 10 == 0 ? self.int(200...2_000) : self.int(1...12)
        var name = ""
        // At most 6,000 bytes: percent-encoded, a proxy and a toxic name stay under the 80 KiB request head.
        for _ in 0..<length where name.utf8.count < 6_000 {
            name += self.pick(Self.namePieces)
        }
        return name.allSatisfy { $0 == "." } ? name + "_" : name
    }

    /// Percent-encodes every byte outside the unreserved set, or every byte (the server decodes `%41` as `A`).
    private func percentEncoded(_ name: String, everything: Bool) -> String {
        var encoded = ""
        for byte in name.utf8 {
            let unreserved =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
            if unreserved && !everything {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded +=
                    "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return encoded
    }

    /// `text` as a JSON string literal.
    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += "\\u00" + (control.value < 0x10 ? "0" : "") + String(control.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private mutating func oddNameLifecycle() -> AbuseCase {
        let proxy = self.oddName() + "-\(self.serial)"
        let toxic = self.oddName() + "-t"
        let everything = self.random.next() % 3 == 0
        let proxyPath = "/proxies/" + self.percentEncoded(proxy, everything: everything)
        let toxicPath = proxyPath + "/toxics/" + self.percentEncoded(toxic, everything: !everything)
        let steps: [(String, String, String?, Expectation)] = [
            (
                "POST", "/proxies",
                #"{"name":\#(Self.jsonString(proxy)),"listen":"127.0.0.1:0","upstream":"127.0.0.1:1","enabled":false}"#,
                .status(201)
            ),
            ("GET", proxyPath, nil, .status(200)),
            ("POST", proxyPath + "/toxics", #"{"name":\#(Self.jsonString(toxic)),"type":"noop"}"#, .status(200)),
            ("GET", toxicPath, nil, .status(200)),
            ("PATCH", toxicPath, #"{"toxicity":0.5}"#, .status(200)),
            ("DELETE", toxicPath, nil, .status(204, .empty)),
            ("DELETE", proxyPath, nil, .status(204, .empty)),
            ("GET", proxyPath, nil, .proxyNotFound),
            ("DELETE", proxyPath, nil, .proxyNotFound),
        ]
        return AbuseCase(
            category: "odd name",
            steps: steps.map { method, target, body, expect in
                AbuseStep(
                    method: method,
                    target: target,
                    bytes: RawHTTP.request(method, target, body: body.map { Array($0.utf8) }),
                    expect: expect
                )
            }
        )
    }

    // MARK: Conflicts → 409

    private mutating func conflict() -> AbuseCase {
        let (target, body, message): (String, String, String) = self.pick([
            ("/proxies", #"{"name":"target","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"}"#, "proxy already exists"),
            ("/proxies", #"{"NAME":"target","UpStream":"x","enabled":false}"#, "proxy already exists"),
            (Self.toxicsPath, #"{"name":"fixture","type":"noop"}"#, "toxic already exists"),
            (Self.toxicsPath, #"{"name":"fixture","type":"latency","stream":"upstream"}"#, "toxic already exists"),
            (Self.toxicsPath, #"{"Name":"fixture","Type":"latency","Stream":"downstream"}"#, "toxic already exists"),
        ])
        return self.single("conflict", "POST", target, body: body, .status(409, .error(message)))
    }

    // MARK: Browsers → 403 on matched routes only

    private mutating func browser() -> AbuseCase {
        let agent = self.pick(["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/", "Mozilla/4.0 (compatible; MSIE 6.0)"])
        let (method, target, body, expect): (String, String, String?, Expectation) = self.pick([
            ("GET", "/version", nil, .status(403, .browserBlocked)),
            ("GET", "/proxies", nil, .status(403, .browserBlocked)),
            ("GET", Self.proxyPath, nil, .status(403, .browserBlocked)),
            // Blocked before anything happens: the fixture survives.
            ("DELETE", Self.proxyPath, nil, .status(403, .browserBlocked)),
            ("DELETE", Self.toxicPath, nil, .status(403, .browserBlocked)),
            ("POST", "/reset", nil, .status(403, .browserBlocked)),
            ("POST", "/proxies", #"{"name":"#, .status(403, .browserBlocked)),
            ("GET", "/nowhere", nil, .pageNotFound),
            ("PUT", "/proxies", nil, .methodNotAllowed),
        ])
        return self.single(
            "browser user agent",
            method,
            target,
            bytes: body.map { Array($0.utf8) },
            headers: [("User-Agent", agent)],
            expect
        )
    }

    // MARK: Broken HTTP → 400

    /// Requests the HTTP parser refuses before routing (Go's server answers these 400 too), and heads over
    /// its 80 KiB limit.
    private mutating func malformedHTTP() -> AbuseCase {
        let host = "Host: 127.0.0.1\r\nConnection: close\r\n"
        let raw: String = self.pick([
            "GARBAGE\r\n\r\n",
            "GET /version\r\n\r\n",
            "GET /version HTTP/9.9\r\n\(host)\r\n",
            "GET /version HTTP/1.1\r\nNo colon here\r\n\(host)\r\n",
            "GET /version HTTP/1.1\r\n\(host)Bad Header Name: 1\r\n\r\n",
            "POST /proxies HTTP/1.1\r\n\(host)Content-Length: abc\r\n\r\n{}",
            "POST /proxies HTTP/1.1\r\n\(host)Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            "POST /proxies HTTP/1.1\r\n\(host)Content-Length: -1\r\n\r\n{}",
            "POST /proxies HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "POST /proxies HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            "GET /proxies/\(String(repeating: "n", count: 90_000)) HTTP/1.1\r\n\(host)\r\n",
            "GET /version HTTP/1.1\r\n\(host)X-Big: \(String(repeating: "b", count: 90_000))\r\n\r\n",
            "GET /version HTTP/1.1\r\n\(host)"
                + (0..<3000).map { "X-Header-\($0): \(String(repeating: "v", count: 30))\r\n" }.joined() + "\r\n",
        ])
        let target = String(raw.prefix { $0 != "\r" }.prefix(60))
        return AbuseCase(
            category: "malformed HTTP",
            steps: [AbuseStep(method: "-", target: target, bytes: Array(raw.utf8), expect: .status(400))]
        )
    }

    // MARK: Bodies over the limit → 413

    private mutating func hugeBody() -> AbuseCase {
        let route = self.bodyRoute()
        let size: Int
        let expect: Expectation
        switch self.int(0...5) {
        case 0:
            // Exactly the limit is still read (and is not JSON).
            size = Self.bodyLimit
            expect = route.broken
        case 1:
            size = Self.bodyLimit + 1
            expect = route.target == "/populate" ? .status(413, .populateError("request body too large")) : .tooLarge
        default:
            size = Self.bodyLimit + self.int(1...(3 * Self.bodyLimit))
            expect = route.target == "/populate" ? .status(413, .populateError("request body too large")) : .tooLarge
        }
        // A plausible start, then a long string: `{"name":"aaaa…` (no end: it is never parsed whole).
        var body = Array(#"{"name":""#.utf8)
        body += [UInt8](repeating: UInt8(ascii: "a"), count: size - body.count)
        let chunked = self.random.next() % 4 == 0
        var headers = [("User-Agent", RawHTTP.userAgent)]
        if chunked {
            headers.append(("Transfer-Encoding", "chunked"))
            var framed: [UInt8] = []
            var offset = 0
            while offset < body.count {
                let size = min(64 * 1024, body.count - offset)
                framed +=
                    Array("\(String(size, radix: 16))\r\n".utf8) + body[offset..<offset + size] + Array("\r\n".utf8)
                offset += size
            }
            body = framed + Array("0\r\n\r\n".utf8)
        }
        let category = size > Self.bodyLimit ? Self.oversizedCategory : "body of exactly 1 MiB"
        return self.single(
            "\(category): \(size) bytes\(chunked ? ", chunked" : "")",
            route.method,
            route.target,
            bytes: body,
            headers: headers,
            expect
        )
    }
}
