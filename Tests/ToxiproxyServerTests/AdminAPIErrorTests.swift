import Foundation
import NIOCore
import NIOPosix
import Testing
import ToxiproxyTestSupport

/// Every error of the admin API (spec §3.2 "bad input", §3.5 check orders, §3.6 catalogue), over a real socket.
/// After each rejected request the server must still answer and nothing may be left half-created.
@Suite
struct AdminAPIErrorTests {
    // MARK: Bad request bodies

    struct Route: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var testDescription: String { "\(self.method) \(self.path)" }
    }

    /// Every route that reads a JSON body, against the fixture of `withFixture` (proxy `p`, toxic `t`).
    static let bodyRoutes = [
        Route(method: "POST", path: "/proxies"),
        Route(method: "POST", path: "/proxies/p"),
        Route(method: "PATCH", path: "/proxies/p"),
        Route(method: "POST", path: "/proxies/p/toxics"),
        Route(method: "POST", path: "/proxies/p/toxics/t"),
        Route(method: "PATCH", path: "/proxies/p/toxics/t"),
    ]

    @Test(arguments: bodyRoutes, [#"{"name":"#, "{", "nope", #"{"name":"x",}"#, "}", #"{"a" 1}"#])
    func malformedJSONIsA400WithTheBadBodyPrefix(route: Route, body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.send(route.method, route.path, body: body)
            Self.expectAPIErrorPrefix(response, status: 400, prefix: "bad request body: ")
            try await Self.expectUnchanged(server, before)
        }
    }

    /// §3.2: an empty body is Go's `EOF`, exactly; so is a body of white space only.
    @Test(arguments: bodyRoutes, ["", " \r\n\t"])
    func emptyBodyIsBadRequestBodyEOF(route: Route, body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.send(route.method, route.path, body: body)
            Self.expectAPIError(response, status: 400, message: "bad request body: EOF")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test
    func populateEmptyBodyIsAJSONEOFError() async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/populate", "")
            // §3.5: `/populate` answers JSON even on error.
            #expect(response.status == 400)
            #expect(response.body == #"{"error":"bad request body: EOF","status":400,"proxies":null}"#)
            #expect(response.header("Content-Type") == "application/json")
            try await Self.expectUnchanged(server, before)
        }
    }

    /// §3.2: a JSON value of the wrong type is a 400 whose text after the prefix is Go-specific.
    @Test(arguments: [
        (Route(method: "POST", path: "/proxies"), #"{"name":5,"upstream":"u"}"#),
        (
            Route(method: "POST", path: "/proxies"),
            #"{"name":"n","upstream":"u","listen":"127.0.0.1:0","enabled":"yes"}"#
        ),
        (Route(method: "POST", path: "/proxies"), #"{"name":"n","upstream":["u"]}"#),
        (Route(method: "POST", path: "/proxies"), #"[{"name":"n","upstream":"u"}]"#),
        (Route(method: "POST", path: "/proxies"), #""n""#),
        (Route(method: "PATCH", path: "/proxies/p"), #"{"enabled":1}"#),
        (Route(method: "POST", path: "/proxies/p"), #"{"listen":false}"#),
        (Route(method: "POST", path: "/proxies/p/toxics"), #"{"type":"latency","attributes":{"latency":"x"}}"#),
        (Route(method: "POST", path: "/proxies/p/toxics"), #"{"type":5}"#),
        (Route(method: "POST", path: "/proxies/p/toxics"), #"{"type":"latency","toxicity":"high"}"#),
        (Route(method: "POST", path: "/proxies/p/toxics"), #"{"type":"latency","attributes":[1]}"#),
        (Route(method: "POST", path: "/proxies/p/toxics"), #"{"type":"latency","stream":true}"#),
        (Route(method: "POST", path: "/proxies/p/toxics"), "[]"),
        (Route(method: "PATCH", path: "/proxies/p/toxics/t"), #"{"toxicity":"x"}"#),
        (Route(method: "PATCH", path: "/proxies/p/toxics/t"), #"{"attributes":{"jitter":true}}"#),
        (Route(method: "POST", path: "/proxies/p/toxics/t"), "7"),
    ])
    func wrongJSONTypeIsA400WithTheBadBodyPrefix(route: Route, body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.send(route.method, route.path, body: body)
            Self.expectAPIErrorPrefix(response, status: 400, prefix: "bad request body: ")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test(arguments: [#"{"name":"x"}"#, #"[{"name":1,"upstream":"u"}]"#, "7", #"[{"enabled":"yes"}]"#])
    func populateWrongTypeIsAJSON400(body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/populate", body)
            #expect(response.status == 400)
            #expect(response.header("Content-Type") == "application/json")
            let object = try Self.jsonObject(response.body)
            #expect((object["error"] as? String)?.hasPrefix("bad request body: ") == true, "\(response)")
            #expect(object["status"] as? Int == 400)
            #expect(object["proxies"] is NSNull)
            try await Self.expectUnchanged(server, before)
        }
    }

    // MARK: Integer attributes and toxicity

    /// §3.2: integer attributes take integer literals only, in range.
    @Test(arguments: ["1.0", "1.5", "1e3", "1E3", "-0.0", "9223372036854775808", "-9223372036854775809", "100.0"])
    func integerAttributesRejectFractionsExponentsAndOverflow(value: String) async throws {
        try await Self.withFixture { server, before in
            let create = try await server.admin.post(
                "/proxies/p/toxics",
                #"{"name":"new","type":"latency","attributes":{"latency":\#(value)}}"#
            )
            Self.expectAPIErrorPrefix(create, status: 400, prefix: "bad request body: ")
            let update = try await server.admin.patch("/proxies/p/toxics/t", #"{"attributes":{"latency":\#(value)}}"#)
            Self.expectAPIErrorPrefix(update, status: 400, prefix: "bad request body: ")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test(arguments: ["9223372036854775807", "-9223372036854775808", "-5", "0"])
    func integerAttributesAcceptTheWholeInt64Range(value: String) async throws {
        try await Self.withFixture { server, _ in
            let response = try await server.admin.patch("/proxies/p/toxics/t", #"{"attributes":{"jitter":\#(value)}}"#)
            #expect(response.status == 200, "\(response)")
            #expect(response.body.contains(#""jitter":\#(value)}"#), "\(response)")
        }
    }

    @Test
    func toxicityAcceptsAnExponent() async throws {
        try await Self.withFixture { server, _ in
            let response = try await server.admin.post(
                "/proxies/p/toxics",
                #"{"name":"e","type":"noop","toxicity":1e-1}"#
            )
            #expect(response.status == 200, "\(response)")
            #expect(
                response.body
                    == #"{"attributes":{},"name":"e","type":"noop","stream":"downstream","toxicity":0.1}"#
            )
        }
    }

    // MARK: Toxic type and stream

    @Test(arguments: [
        #"{"type":"bogus"}"#, #"{"name":"x"}"#, "{}", "null", #"{"type":""}"#, #"{"type":"Latency"}"#,
        #"{"type":null,"stream":"upstream"}"#,
    ])
    func unknownOrMissingToxicTypeIsInvalidToxicType(body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/proxies/p/toxics", body)
            Self.expectAPIError(response, status: 400, message: "invalid toxic type")
            try await Self.expectUnchanged(server, before)
        }
    }

    /// §3.5: an explicit `""` is invalid while an absent or `null` stream means downstream; the stream is
    /// checked before the type.
    @Test(arguments: [
        #"{"type":"latency","stream":"sideways"}"#, #"{"type":"latency","stream":""}"#,
        #"{"type":"bogus","stream":"x"}"#, #"{"stream":"up"}"#, #"{"type":"latency","stream":" upstream"}"#,
    ])
    func invalidStreamIsTheStreamMessage(body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/proxies/p/toxics", body)
            Self.expectAPIError(
                response,
                status: 400,
                message: "stream was invalid, can be either upstream or downstream"
            )
            try await Self.expectUnchanged(server, before)
        }
    }

    // MARK: Missing fields

    /// §3.5: name is checked before upstream; an empty string counts as missing.
    @Test(arguments: [
        ("{}", "name"), ("null", "name"), (#"{"upstream":"u"}"#, "name"), (#"{"name":"","upstream":"u"}"#, "name"),
        (#"{"name":null,"upstream":"u"}"#, "name"), (#"{"name":"x"}"#, "upstream"),
        (#"{"name":"x","upstream":""}"#, "upstream"), (#"{"name":"x","listen":"127.0.0.1:0"}"#, "upstream"),
    ])
    func createWithoutNameOrUpstreamIsMissingRequiredField(body: String, field: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/proxies", body)
            Self.expectAPIError(response, status: 400, message: "missing required field: \(field)")
            try await Self.expectUnchanged(server, before)
        }
    }

    // MARK: Conflicts

    @Test
    func createWithAnExistingNameIs409AndLeavesTheProxyAlone() async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post(
                "/proxies",
                #"{"name":"p","listen":"127.0.0.1:0","upstream":"elsewhere:1"}"#
            )
            Self.expectAPIError(response, status: 409, message: "proxy already exists")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test
    func nameConflictIsCheckedBeforeBinding() async throws {
        try await Self.withFixture { server, before in
            try await Loopback.withOccupiedPort { occupied in
                let response = try await server.admin.post(
                    "/proxies",
                    #"{"name":"p","listen":"127.0.0.1:\#(occupied)","upstream":"u"}"#
                )
                Self.expectAPIError(response, status: 409, message: "proxy already exists")
            }
            try await Self.expectUnchanged(server, before)
        }
    }

    /// §5.1: toxic names are unique per proxy across both directions.
    @Test(arguments: [
        #"{"name":"t","type":"latency","stream":"downstream"}"#, #"{"name":"t","type":"noop","stream":"upstream"}"#,
        #"{"name":"t","type":"timeout","stream":"UPSTREAM"}"#,
        // §3.5: the name is checked before the attributes are decoded.
        #"{"name":"t","type":"latency","attributes":{"latency":"x"}}"#,
        // The default name `latency_upstream` collides as well.
        #"{"type":"latency","stream":"upstream"}"#,
    ])
    func toxicNameInUseInEitherDirectionIs409(body: String) async throws {
        try await Self.withFixture { server, _ in
            // The fixture's `t` is upstream; add a downstream `latency_upstream` so the default name collides
            // across directions too.
            let extra = try await server.admin.post(
                "/proxies/p/toxics",
                #"{"name":"latency_upstream","type":"noop","stream":"downstream"}"#
            )
            #expect(extra.status == 200)
            let withExtra = try await server.admin.get("/proxies").body
            let response = try await server.admin.post("/proxies/p/toxics", body)
            Self.expectAPIError(response, status: 409, message: "toxic already exists")
            try await Self.expectUnchanged(server, withExtra)
        }
    }

    @Test
    func toxicTypeIsCheckedBeforeTheNameConflict() async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/proxies/p/toxics", #"{"name":"t","type":"bogus"}"#)
            Self.expectAPIError(response, status: 400, message: "invalid toxic type")
            try await Self.expectUnchanged(server, before)
        }
    }

    // MARK: Not found

    struct NotFoundCase: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var body: String?
        var message: String
        var testDescription: String { "\(self.method) \(self.path)" }
    }

    /// §3.4: every route that names a proxy or a toxic answers 404 when it does not exist.
    @Test(arguments: [
        NotFoundCase(method: "GET", path: "/proxies/nope", body: nil, message: "proxy not found"),
        NotFoundCase(method: "POST", path: "/proxies/nope", body: #"{"enabled":false}"#, message: "proxy not found"),
        NotFoundCase(method: "PATCH", path: "/proxies/nope", body: #"{"enabled":false}"#, message: "proxy not found"),
        NotFoundCase(method: "DELETE", path: "/proxies/nope", body: nil, message: "proxy not found"),
        NotFoundCase(method: "GET", path: "/proxies/nope/toxics", body: nil, message: "proxy not found"),
        NotFoundCase(
            method: "POST",
            path: "/proxies/nope/toxics",
            body: #"{"type":"noop"}"#,
            message: "proxy not found"
        ),
        NotFoundCase(method: "GET", path: "/proxies/nope/toxics/t", body: nil, message: "proxy not found"),
        NotFoundCase(method: "POST", path: "/proxies/nope/toxics/t", body: "{}", message: "proxy not found"),
        NotFoundCase(method: "PATCH", path: "/proxies/nope/toxics/t", body: "{}", message: "proxy not found"),
        NotFoundCase(method: "DELETE", path: "/proxies/nope/toxics/t", body: nil, message: "proxy not found"),
        NotFoundCase(method: "GET", path: "/proxies/p/toxics/nope", body: nil, message: "toxic not found"),
        NotFoundCase(method: "POST", path: "/proxies/p/toxics/nope", body: "{}", message: "toxic not found"),
        NotFoundCase(method: "PATCH", path: "/proxies/p/toxics/nope", body: "{}", message: "toxic not found"),
        NotFoundCase(method: "DELETE", path: "/proxies/p/toxics/nope", body: nil, message: "toxic not found"),
        // Names are case-sensitive.
        NotFoundCase(method: "GET", path: "/proxies/P", body: nil, message: "proxy not found"),
        NotFoundCase(method: "GET", path: "/proxies/p/toxics/T", body: nil, message: "toxic not found"),
    ])
    func missingProxyOrToxicIs404(_ testCase: NotFoundCase) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.send(testCase.method, testCase.path, body: testCase.body)
            Self.expectAPIError(response, status: 404, message: testCase.message)
            try await Self.expectUnchanged(server, before)
        }
    }

    /// The reference looks the proxy up before it reads the body, so a bad body for a missing proxy is a 404.
    @Test(arguments: [("PATCH", "/proxies/nope"), ("POST", "/proxies/nope/toxics")])
    func missingProxyWinsOverABadBody(method: String, path: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.send(method, path, body: "{not json")
            Self.expectAPIError(response, status: 404, message: "proxy not found")
            try await Self.expectUnchanged(server, before)
        }
    }

    // MARK: Listen failures

    @Test
    func createOnAPortInUseIs500AndCreatesNothing() async throws {
        try await Self.withFixture { server, before in
            try await Loopback.withOccupiedPort { occupied in
                let response = try await server.admin.post(
                    "/proxies",
                    #"{"name":"busy","listen":"127.0.0.1:\#(occupied)","upstream":"localhost:19999"}"#
                )
                // §3.6: the in-repo API test asserts this exact string.
                Self.expectAPIError(
                    response,
                    status: 500,
                    message: "listen tcp 127.0.0.1:\(occupied): bind: address already in use"
                )
            }
            Self.expectAPIError(try await server.admin.get("/proxies/busy"), status: 404, message: "proxy not found")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test
    func createWithAListenWithoutPortIs500AndCreatesNothing() async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post(
                "/proxies",
                #"{"name":"nope","listen":"nope","upstream":"localhost:19999"}"#
            )
            Self.expectAPIError(response, status: 500, message: "listen tcp: address nope: missing port in address")
            Self.expectAPIError(try await server.admin.get("/proxies/nope"), status: 404, message: "proxy not found")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test
    func updateThatCannotBindIs500AndLeavesTheProxyDisabledWithTheNewFields() async throws {
        try await Self.withFixture { server, _ in
            try await Loopback.withOccupiedPort { occupied in
                let response = try await server.admin.patch(
                    "/proxies/p",
                    #"{"listen":"127.0.0.1:\#(occupied)","upstream":"localhost:20002"}"#
                )
                Self.expectAPIError(
                    response,
                    status: 500,
                    message: "listen tcp 127.0.0.1:\(occupied): bind: address already in use"
                )
                let proxy = try Self.jsonObject(try await server.admin.get("/proxies/p").body)
                // §3.5 step 4 [obs]: disabled, with the new listen and upstream stored.
                #expect(proxy["enabled"] as? Bool == false)
                #expect(proxy["listen"] as? String == "127.0.0.1:\(occupied)")
                #expect(proxy["upstream"] as? String == "localhost:20002")
                #expect((proxy["toxics"] as? [Any])?.count == 1, "toxics survive a failed restart")
            }
            #expect(try await server.admin.get("/version").status == 200)
        }
    }

    @Test
    func updateWithAnUnresolvableListenIs500AndChangesNothing() async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.post("/proxies/p", #"{"listen":"bad","upstream":"other:1"}"#)
            // §3.5 step 1: the resolver's message, before anything is stopped or stored.
            Self.expectAPIError(response, status: 500, message: "address bad: missing port in address")
            try await Self.expectUnchanged(server, before)
        }
    }

    @Test
    func resetStopsAtAProxyThatCannotBindAndKeepsItsToxics() async throws {
        try await withTestServer { server in
            try await Loopback.withOccupiedPort { occupied in
                let created = try await server.admin.post(
                    "/proxies",
                    #"{"name":"stuck","listen":"127.0.0.1:\#(occupied)","upstream":"u","enabled":false}"#
                )
                #expect(created.status == 201, "\(created)")
                #expect(try await server.admin.post("/proxies/stuck/toxics", #"{"type":"noop"}"#).status == 200)
                let before = try await server.admin.get("/proxies").body
                Self.expectAPIError(
                    try await server.admin.post("/reset"),
                    status: 500,
                    message: "listen tcp 127.0.0.1:\(occupied): bind: address already in use"
                )
                // The start failed before the toxics were removed (§3.5 reset order).
                try await Self.expectUnchanged(server, before)
            }
        }
    }

    // MARK: Names that are not URL-safe

    @Test(arguments: [("a b", "a%20b"), ("ü", "%C3%BC"), ("50%", "50%25"), ("a?b", "a%3Fb"), ("a#b", "a%23b")])
    func namesAreNotValidatedAndPercentEncodedPathsAreDecoded(name: String, encoded: String) async throws {
        try await withTestServer { server in
            let created = try await server.admin.post(
                "/proxies",
                #"{"name":"\#(name)","listen":"localhost:3310","upstream":"u","enabled":false}"#
            )
            #expect(created.status == 201, "\(created)")
            let expected =
                #"{"name":"\#(name)","listen":"localhost:3310","upstream":"u","enabled":false,"Logger":{},"toxics":[]}"#
            #expect(created.body == expected)
            let fetched = try await server.admin.get("/proxies/\(encoded)")
            #expect(fetched.status == 200, "\(fetched)")
            #expect(fetched.body == expected)

            // Toxic names follow the same rules.
            let toxic = try await server.admin.post("/proxies/\(encoded)/toxics", #"{"name":"\#(name)","type":"noop"}"#)
            #expect(toxic.status == 200, "\(toxic)")
            #expect(try await server.admin.get("/proxies/\(encoded)/toxics/\(encoded)").status == 200)
            #expect(try await server.admin.delete("/proxies/\(encoded)/toxics/\(encoded)").status == 204)
            #expect(try await server.admin.delete("/proxies/\(encoded)").status == 204)
            #expect(try await server.admin.get("/proxies").body == "{}")
        }
    }

    /// §3.1: the reference decodes `%2F` before matching, so a name containing `/` can be created but never
    /// addressed again. Here path segments are matched first and decoded after (a deliberate deviation), so the
    /// proxy can still be read and deleted as `a%2Fb`; the raw `a/b` is an unknown path, as in the reference.
    @Test
    func aNameWithASlashIsAddressedPercentEncoded() async throws {
        try await withTestServer { server in
            let created = try await server.admin.post(
                "/proxies",
                #"{"name":"a/b","listen":"localhost:3310","upstream":"u","enabled":false}"#
            )
            #expect(created.status == 201, "\(created)")
            let listed = try await server.admin.get("/proxies").body
            #expect(listed.hasPrefix(#"{"a/b":{"name":"a/b","#), "\(listed)")
            for (method, path) in [("GET", "/proxies/a/b"), ("DELETE", "/proxies/a/b")] {
                let response = try await server.admin.send(method, path)
                #expect(response.status == 404, "\(method) \(path): \(response)")
                #expect(response.body == "404 page not found\n", "\(method) \(path)")
                #expect(response.header("X-Toxiproxy-Request-Id") == nil, "\(method) \(path)")
            }
            try await Self.expectUnchanged(server, listed)
            for path in ["/proxies/a%2Fb", "/proxies/a%2fb"] {
                let response = try await server.admin.get(path)
                #expect(response.status == 200, "\(path): \(response)")
                #expect(response.body.hasPrefix(#"{"name":"a/b","#), "\(path): \(response)")
            }
            #expect(try await server.admin.delete("/proxies/a%2Fb").status == 204)
            #expect(try await server.admin.get("/proxies").body == "{}")
        }
    }

    // MARK: Toxic updates that fail

    /// Deliberate deviation from the reference (which may write part of a failed update, §3.5): a 400 toxic
    /// update changes nothing.
    @Test(arguments: [
        #"{"attributes":{"jitter":5,"latency":"x"}}"#, #"{"attributes":{"latency":"x","jitter":5}}"#,
        #"{"toxicity":0.5,"attributes":{"latency":"x"}}"#, #"{"attributes":{"jitter":5},"toxicity":"x"}"#,
        #"{"attributes":{"jitter":5,"latency":1.5}}"#,
    ])
    func failedToxicUpdateLeavesTheToxicUnchanged(body: String) async throws {
        try await Self.withFixture { server, before in
            let response = try await server.admin.patch("/proxies/p/toxics/t", body)
            Self.expectAPIErrorPrefix(response, status: 400, prefix: "bad request body: ")
            let toxic = try await server.admin.get("/proxies/p/toxics/t")
            #expect(toxic.body == Self.fixtureToxic)
            try await Self.expectUnchanged(server, before)
        }
    }
}

// MARK: - Helpers

extension AdminAPIErrorTests {
    /// The toxic of the fixture, as the API shows it (§3.3 key order).
    fileprivate static let fixtureToxic =
        #"{"attributes":{"latency":100,"jitter":1},"name":"t","type":"latency","stream":"upstream","toxicity":0.75}"#

    /// A server with an enabled proxy `p` holding upstream toxic `t`; `body` gets the server and the
    /// `GET /proxies` body taken before the test's own request.
    fileprivate static func withFixture(
        _ body: @escaping @Sendable (TestServer, String) async throws -> Void
    ) async throws {
        try await withTestServer { server in
            let created = try await server.admin.post(
                "/proxies",
                #"{"name":"p","listen":"127.0.0.1:0","upstream":"localhost:19999"}"#
            )
            guard created.status == 201 else { throw TestFailure("fixture proxy: \(created)") }
            let toxic = try await server.admin.post(
                "/proxies/p/toxics",
                #"{"name":"t","type":"latency","stream":"upstream","toxicity":0.75,"#
                    + #""attributes":{"latency":100,"jitter":1}}"#
            )
            guard toxic.status == 200, toxic.body == Self.fixtureToxic else {
                throw TestFailure("fixture toxic: \(toxic)")
            }
            let before = try await server.admin.get("/proxies")
            guard before.status == 200 else { throw TestFailure("fixture list: \(before)") }
            try await body(server, before.body)
        }
    }

    /// The server still answers and the proxies (with their toxics) are exactly as before.
    fileprivate static func expectUnchanged(
        _ server: TestServer,
        _ before: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let version = try await server.admin.get("/version")
        #expect(version.status == 200, "server no longer answers: \(version)", sourceLocation: sourceLocation)
        let after = try await server.admin.get("/proxies")
        #expect(after.body == before, "the proxy list changed", sourceLocation: sourceLocation)
    }

    /// §3.1: a 20-character xid, base32hex in lower case (`0-9a-v`).
    fileprivate static func isRequestID(_ value: String?) -> Bool {
        guard let value, value.utf8.count == 20 else { return false }
        return value.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x76).contains($0) }
    }

    /// Go's `http.Error` with the JSON error object (§3.3), the message given exactly.
    fileprivate static func expectAPIError(
        _ response: AdminClient.Response,
        status: Int,
        message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        Self.expectAPIErrorShape(response, status: status, sourceLocation: sourceLocation)
        #expect(response.body == #"{"error":"\#(message)","status":\#(status)}"# + "\n", sourceLocation: sourceLocation)
    }

    /// Go's `http.Error` with the JSON error object, where only the start of the message is fixed.
    fileprivate static func expectAPIErrorPrefix(
        _ response: AdminClient.Response,
        status: Int,
        prefix: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        Self.expectAPIErrorShape(response, status: status, sourceLocation: sourceLocation)
        #expect(response.body.hasPrefix(#"{"error":"\#(prefix)"#), "\(response)", sourceLocation: sourceLocation)
        #expect(response.body.hasSuffix(#"","status":\#(status)}"# + "\n"), sourceLocation: sourceLocation)
        let object = try? Self.jsonObject(response.body)
        #expect(object?.count == 2, "exactly `error` and `status`", sourceLocation: sourceLocation)
    }

    private static func expectAPIErrorShape(
        _ response: AdminClient.Response,
        status: Int,
        sourceLocation: SourceLocation
    ) {
        #expect(response.status == status, "\(response)", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8", sourceLocation: sourceLocation)
        #expect(response.header("X-Content-Type-Options") == "nosniff", sourceLocation: sourceLocation)
        #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")), sourceLocation: sourceLocation)
    }

    fileprivate static func jsonObject(_ text: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        guard let object = value as? [String: Any] else { throw TestFailure("not a JSON object: \(text)") }
        return object
    }
}
