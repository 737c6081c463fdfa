import Foundation
import NIOCore
import NIOPosix
import Testing
import ToxiproxyTestSupport

/// The admin API route by route (spec §3.4), over a real socket: status, exact body bytes, content type and
/// the middleware headers, as the reference server answers them. Errors live in `AdminAPIErrorTests`.
@Suite
struct AdminAPIRouteTests {
    // MARK: GET /version

    @Test
    func versionAnswersTheCompatibleVersionWithItsOwnContentType() async throws {
        try await withTestServer { server in
            let response = try await server.admin.get("/version")
            #expect(response.status == 200)
            // §1 and §3.4: a space after the colon and a trailing newline, unlike every other success body.
            #expect(response.body == "{\"version\": \"2.12.0\"}\n")
            // §3.3: `/version` alone uses `application/json;charset=utf-8`, without a space.
            #expect(response.header("Content-Type") == "application/json;charset=utf-8")
            #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")))
        }
    }

    @Test
    func everyMatchedRequestGetsAFreshRequestID() async throws {
        try await withTestServer { server in
            var seen: Set<String> = []
            for _ in 0..<5 {
                let id = try await server.admin.get("/version").header("X-Toxiproxy-Request-Id")
                #expect(Self.isRequestID(id), "\(String(describing: id))")
                if let id { seen.insert(id) }
            }
            // §3.1: a fresh xid per request, never reused.
            #expect(seen.count == 5)
        }
    }

    @Test
    func requestIDIsNeverReadFromTheRequest() async throws {
        try await withTestServer { server in
            let response = try await server.admin.send(
                "GET",
                "/version",
                headers: [("User-Agent", "tests"), ("X-Toxiproxy-Request-Id", "aaaaaaaaaaaaaaaaaaaa")]
            )
            #expect(response.status == 200)
            let id = response.header("X-Toxiproxy-Request-Id")
            #expect(Self.isRequestID(id))
            #expect(id != "aaaaaaaaaaaaaaaaaaaa")
        }
    }

    // MARK: GET /proxies

    @Test
    func listIsAnEmptyObjectWithoutProxies() async throws {
        try await withTestServer { server in
            Self.expectJSON(try await server.admin.get("/proxies"), status: 200, body: "{}")
        }
    }

    @Test
    func listIsAnObjectKeyedByNameInSortedOrder() async throws {
        try await withTestServer { server in
            // Disabled proxies are never bound, so their listen strings stay exactly as given (§3.3).
            for name in ["charlie", "alpha", "bravo"] {
                let response = try await server.admin.post(
                    "/proxies",
                    #"{"name":"\#(name)","listen":"localhost:3310","upstream":"localhost:19999","enabled":false}"#
                )
                #expect(response.status == 201, "\(response)")
            }
            let proxies = ["alpha", "bravo", "charlie"].map { name in
                "\"\(name)\":" + Self.proxyJSON(name, listen: "localhost:3310", enabled: false)
            }
            Self.expectJSON(
                try await server.admin.get("/proxies"),
                status: 200,
                body: "{" + proxies.joined(separator: ",") + "}"
            )
        }
    }

    // MARK: POST /proxies

    @Test
    func createAnswers201WithTheProxyObjectAndTheRealBoundPort() async throws {
        try await withTestServer { server in
            let response = try await server.admin.post(
                "/proxies",
                #"{"name":"p1","listen":"127.0.0.1:0","upstream":"localhost:19999"}"#
            )
            let port = try Self.listenPort(response)
            // §3.3: port 0 is replaced by the port the kernel picked.
            #expect(port != 0)
            Self.expectJSON(
                response,
                status: 201,
                body: Self.proxyJSON("p1", listen: "127.0.0.1:\(port)")
            )
            #expect(await Loopback.canConnect(port: port), "the proxy must be listening on its reported port")
        }
    }

    @Test(arguments: ["localhost:3310", "127.0.0.1:0", "localhost:0"])
    func createDisabledKeepsListenExactlyAsGiven(listen: String) async throws {
        try await withTestServer { server in
            let response = try await server.admin.post(
                "/proxies",
                #"{"name":"off","listen":"\#(listen)","upstream":"localhost:19999","enabled":false}"#
            )
            Self.expectJSON(response, status: 201, body: Self.proxyJSON("off", listen: listen, enabled: false))
            Self.expectJSON(
                try await server.admin.get("/proxies/off"),
                status: 200,
                body: Self.proxyJSON("off", listen: listen, enabled: false)
            )
        }
    }

    @Test
    func createIgnoresToxicsAndLoggerFields() async throws {
        try await withTestServer { server in
            let response = try await server.admin.post(
                "/proxies",
                #"{"name":"x","listen":"127.0.0.1:0","upstream":"localhost:19999","#
                    + #""toxics":[{"type":"latency","attributes":{"latency":5}}],"Logger":{"level":"x"}}"#
            )
            let port = try Self.listenPort(response)
            Self.expectJSON(response, status: 201, body: Self.proxyJSON("x", listen: "127.0.0.1:\(port)"))
        }
    }

    // MARK: GET /proxies/{p}

    @Test
    func getAnswersTheProxyObject() async throws {
        try await withTestServer { server in
            let port = try await Self.createProxy(server.admin, "fetch", upstream: "localhost:19999")
            Self.expectJSON(
                try await server.admin.get("/proxies/fetch"),
                status: 200,
                body: Self.proxyJSON("fetch", listen: "127.0.0.1:\(port)")
            )
        }
    }

    // MARK: POST|PATCH /proxies/{p}

    @Test(arguments: ["POST", "PATCH"])
    func disablingClosesListenerAndConnectionsAndEnablingRebindsTheSamePort(method: String) async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await Self.createProxy(server.admin, "door", upstream: "127.0.0.1:\(echoPort)")
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("hello") == .echoed)
                    let disabled = try await server.admin.send(method, "/proxies/door", body: #"{"enabled":false}"#)
                    Self.expectJSON(
                        disabled,
                        status: 200,
                        body: Self.proxyJSON(
                            "door",
                            listen: "127.0.0.1:\(port)",
                            upstream: "127.0.0.1:\(echoPort)",
                            enabled: false
                        )
                    )
                    // §3.5: disabling closes every existing connection, immediately.
                    #expect(await live.probe("again") == .closed)
                }
                #expect(await !Loopback.canConnect(port: port), "a disabled proxy must not accept connections")

                let enabled = try await server.admin.send(method, "/proxies/door", body: #"{"enabled":true}"#)
                // §3.5: re-enabling binds the stored, already resolved address, so the port is reused.
                Self.expectJSON(
                    enabled,
                    status: 200,
                    body: Self.proxyJSON("door", listen: "127.0.0.1:\(port)", upstream: "127.0.0.1:\(echoPort)")
                )
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("back") == .echoed)
                }
            }
        }
    }

    @Test
    func settingTheCurrentEnabledValueIsANoOp() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await Self.createProxy(server.admin, "same", upstream: "127.0.0.1:\(echoPort)")
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("one") == .echoed)
                    let response = try await server.admin.patch("/proxies/same", #"{"enabled":true}"#)
                    #expect(response.status == 200)
                    #expect(await live.probe("two") == .echoed)
                }
            }
        }
    }

    @Test
    func updateWithAnEquivalentHostnameOrUnchangedFieldsDoesNotRestart() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let upstream = "127.0.0.1:\(echoPort)"
                let port = try await Self.createProxy(server.admin, "steady", upstream: upstream)
                let expected = Self.proxyJSON("steady", listen: "127.0.0.1:\(port)", upstream: upstream)
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("start") == .echoed)
                    // §3.5 step 2 (2.12.0 fix): `localhost:PORT` resolves to the stored `127.0.0.1:PORT`.
                    let bodies = [
                        #"{"listen":"localhost:\#(port)"}"#,
                        #"{"listen":"127.0.0.1:\#(port)","upstream":"\#(upstream)"}"#,
                        "{}",
                        // `name` is ignored by updates; nulls leave the current values.
                        #"{"name":"renamed","listen":null,"upstream":null,"enabled":null}"#,
                    ]
                    for body in bodies {
                        let response = try await server.admin.patch("/proxies/steady", body)
                        // The stored listen is kept as is: it is only rewritten when the proxy restarts.
                        Self.expectJSON(response, status: 200, body: expected)
                        #expect(await live.probe(body) == .echoed, "\(body) must not restart the proxy")
                    }
                }
                #expect(try await server.admin.get("/proxies/renamed").status == 404)
            }
        }
    }

    @Test
    func changingTheUpstreamRestartsTheProxyOnTheSamePortAndKeepsToxics() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await Self.createProxy(server.admin, "move", upstream: "127.0.0.1:\(echoPort)")
                let toxic = try await server.admin.post("/proxies/move/toxics", #"{"type":"noop","name":"n"}"#)
                #expect(toxic.status == 200)
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("before") == .echoed)
                    // The same endpoint spelled differently is a different upstream string (§3.5 step 2).
                    let response = try await server.admin.post(
                        "/proxies/move",
                        #"{"upstream":"localhost:\#(echoPort)"}"#
                    )
                    Self.expectJSON(
                        response,
                        status: 200,
                        body: Self.proxyJSON(
                            "move",
                            listen: "127.0.0.1:\(port)",
                            upstream: "localhost:\(echoPort)",
                            toxics: [Self.toxicJSON("n", type: "noop", attributes: "")]
                        )
                    )
                    #expect(await live.probe("after") == .closed, "a changed upstream drops live connections")
                }
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("new") == .echoed)
                }
            }
        }
    }

    @Test
    func listenOnPortZeroIsAlwaysAChange() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await Self.createProxy(server.admin, "zero", upstream: "127.0.0.1:\(echoPort)")
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("x") == .echoed)
                    let response = try await server.admin.patch("/proxies/zero", #"{"listen":"127.0.0.1:0"}"#)
                    #expect(response.status == 200, "\(response)")
                    let newPort = try Self.listenPort(response)
                    #expect(newPort != 0)
                    #expect(await live.probe("y") == .closed, "`:0` differs from any stored address (§3.5)")
                    try await Self.withLiveConnection(port: newPort) { fresh in
                        #expect(await fresh.probe("z") == .echoed)
                    }
                }
            }
        }
    }

    @Test
    func enablingAProxyCreatedDisabledWithAHostnameReportsTheResolvedAddress() async throws {
        try await withTestServer { server in
            let created = try await server.admin.post(
                "/proxies",
                #"{"name":"late","listen":"localhost:0","upstream":"localhost:19999","enabled":false}"#
            )
            Self.expectJSON(created, status: 201, body: Self.proxyJSON("late", listen: "localhost:0", enabled: false))
            let response = try await server.admin.post("/proxies/late", #"{"enabled":true}"#)
            let port = try Self.listenPort(response)
            #expect(port != 0)
            // §3.3: after a bind the listen string is the bound address in Go's format, hostname resolved.
            Self.expectJSON(response, status: 200, body: Self.proxyJSON("late", listen: "127.0.0.1:\(port)"))
            #expect(await Loopback.canConnect(port: port))
        }
    }

    @Test
    func toxicsSurviveDisableAndEnable() async throws {
        try await withTestServer { server in
            let port = try await Self.createProxy(server.admin, "keep", upstream: "localhost:19999")
            let added = try await server.admin.post(
                "/proxies/keep/toxics",
                #"{"type":"latency","stream":"upstream","attributes":{"latency":10}}"#
            )
            #expect(added.status == 200)
            let toxic = Self.toxicJSON(
                "latency_upstream",
                type: "latency",
                stream: "upstream",
                attributes: #""latency":10,"jitter":0"#
            )
            #expect(try await server.admin.patch("/proxies/keep", #"{"enabled":false}"#).status == 200)
            Self.expectJSON(
                try await server.admin.get("/proxies/keep"),
                status: 200,
                body: Self.proxyJSON("keep", listen: "127.0.0.1:\(port)", enabled: false, toxics: [toxic])
            )
            #expect(try await server.admin.patch("/proxies/keep", #"{"enabled":true}"#).status == 200)
            Self.expectJSON(
                try await server.admin.get("/proxies/keep"),
                status: 200,
                body: Self.proxyJSON("keep", listen: "127.0.0.1:\(port)", toxics: [toxic])
            )
        }
    }

    // MARK: DELETE /proxies/{p}

    @Test
    func deleteAnswers204ClosesEverythingAndASecondDeleteIs404() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await Self.createProxy(server.admin, "gone", upstream: "127.0.0.1:\(echoPort)")
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("hi") == .echoed)
                    Self.expectNoContent(try await server.admin.delete("/proxies/gone"))
                    #expect(await live.probe("bye") == .closed)
                }
                #expect(await !Loopback.canConnect(port: port))
                Self.expectAPIError(
                    try await server.admin.get("/proxies/gone"),
                    status: 404,
                    message: "proxy not found"
                )
                Self.expectAPIError(
                    try await server.admin.delete("/proxies/gone"),
                    status: 404,
                    message: "proxy not found"
                )
                Self.expectJSON(try await server.admin.get("/proxies"), status: 200, body: "{}")
            }
        }
    }

    // MARK: GET /proxies/{p}/toxics

    @Test
    func toxicListIsAnEmptyArrayWithoutToxics() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "bare", upstream: "localhost:19999")
            Self.expectJSON(try await server.admin.get("/proxies/bare/toxics"), status: 200, body: "[]")
        }
    }

    @Test
    func toxicsAreListedUpstreamFirstThenDownstreamEachInCreationOrder() async throws {
        try await withTestServer { server in
            let port = try await Self.createProxy(server.admin, "order", upstream: "localhost:19999")
            let creations = [("d1", "downstream"), ("u1", "upstream"), ("d2", "downstream"), ("u2", "upstream")]
            for (name, stream) in creations {
                let response = try await server.admin.post(
                    "/proxies/order/toxics",
                    #"{"name":"\#(name)","type":"noop","stream":"\#(stream)"}"#
                )
                #expect(response.status == 200, "\(response)")
            }
            let listed = [("u1", "upstream"), ("u2", "upstream"), ("d1", "downstream"), ("d2", "downstream")].map {
                Self.toxicJSON($0.0, type: "noop", stream: $0.1, attributes: "")
            }
            Self.expectJSON(
                try await server.admin.get("/proxies/order/toxics"),
                status: 200,
                body: "[" + listed.joined(separator: ",") + "]"
            )
            // The proxy object embeds the same list in the same order (§3.3).
            Self.expectJSON(
                try await server.admin.get("/proxies/order"),
                status: 200,
                body: Self.proxyJSON("order", listen: "127.0.0.1:\(port)", toxics: listed)
            )
        }
    }

    // MARK: POST /proxies/{p}/toxics

    @Test
    func createToxicAnswers200WithTheToxicObjectInReferenceKeyOrder() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "t", upstream: "localhost:19999")
            let response = try await server.admin.post(
                "/proxies/t/toxics",
                #"{"type":"latency","attributes":{"latency":100}}"#
            )
            // §3.3 gives these exact bytes; §3.4: 200, not 201.
            Self.expectJSON(
                response,
                status: 200,
                body: #"{"attributes":{"latency":100,"jitter":0},"name":"latency_downstream","type":"latency","#
                    + #""stream":"downstream","toxicity":1}"#
            )
        }
    }

    @Test
    func defaultToxicNameUsesTheStreamAsSuppliedAndEchoesItVerbatim() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "s", upstream: "localhost:19999")
            let down = try await server.admin.post("/proxies/s/toxics", #"{"type":"noop"}"#)
            #expect(down.status == 200)
            let response = try await server.admin.post("/proxies/s/toxics", #"{"type":"latency","stream":"UpStream"}"#)
            let upToxic = Self.toxicJSON(
                "latency_UpStream",
                type: "latency",
                stream: "UpStream",
                attributes: #""latency":0,"jitter":0"#
            )
            Self.expectJSON(response, status: 200, body: upToxic)
            // Parsed case-insensitively: it is an upstream toxic, so it is listed before the downstream one.
            let downToxic = Self.toxicJSON("noop_downstream", type: "noop", attributes: "")
            Self.expectJSON(
                try await server.admin.get("/proxies/s/toxics"),
                status: 200,
                body: "[\(upToxic),\(downToxic)]"
            )
        }
    }

    @Test
    func nullMembersLeaveToxicDefaults() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "n", upstream: "localhost:19999")
            let response = try await server.admin.post(
                "/proxies/n/toxics",
                #"{"name":null,"type":"latency","stream":null,"toxicity":null,"attributes":null}"#
            )
            Self.expectJSON(
                response,
                status: 200,
                body: Self.toxicJSON("latency_downstream", type: "latency", attributes: #""latency":0,"jitter":0"#)
            )
        }
    }

    struct ToxicTypeCase: Sendable, CustomTestStringConvertible {
        var type: String
        var attributesIn: String
        var attributesOut: String
        var testDescription: String { self.type }
    }

    /// §5.1 registered types, with the attributes of §5.3 in Go struct order whatever order they are sent in.
    @Test(arguments: [
        ToxicTypeCase(
            type: "latency",
            attributesIn: #"{"jitter":10,"latency":100}"#,
            attributesOut: #""latency":100,"jitter":10"#
        ),
        ToxicTypeCase(type: "bandwidth", attributesIn: #"{"rate":100}"#, attributesOut: #""rate":100"#),
        ToxicTypeCase(type: "slow_close", attributesIn: #"{"delay":700}"#, attributesOut: #""delay":700"#),
        ToxicTypeCase(type: "timeout", attributesIn: #"{"timeout":500}"#, attributesOut: #""timeout":500"#),
        ToxicTypeCase(type: "reset_peer", attributesIn: #"{"timeout":100}"#, attributesOut: #""timeout":100"#),
        ToxicTypeCase(
            type: "slicer",
            attributesIn: #"{"delay":50,"size_variation":4,"average_size":10}"#,
            attributesOut: #""average_size":10,"size_variation":4,"delay":50"#
        ),
        ToxicTypeCase(type: "limit_data", attributesIn: #"{"bytes":15}"#, attributesOut: #""bytes":15"#),
        ToxicTypeCase(type: "noop", attributesIn: "{}", attributesOut: ""),
    ])
    func everyRegisteredToxicTypeCanBeCreated(_ testCase: ToxicTypeCase) async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "types", upstream: "localhost:19999")
            let response = try await server.admin.post(
                "/proxies/types/toxics",
                #"{"type":"\#(testCase.type)","stream":"upstream","attributes":\#(testCase.attributesIn)}"#
            )
            Self.expectJSON(
                response,
                status: 200,
                body: Self.toxicJSON(
                    "\(testCase.type)_upstream",
                    type: testCase.type,
                    stream: "upstream",
                    attributes: testCase.attributesOut
                )
            )
        }
    }

    @Test
    func omittedAttributesAreZero() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "z", upstream: "localhost:19999")
            let response = try await server.admin.post(
                "/proxies/z/toxics",
                #"{"type":"latency","attributes":{"jitter":5}}"#
            )
            Self.expectJSON(
                response,
                status: 200,
                body: Self.toxicJSON("latency_downstream", type: "latency", attributes: #""latency":0,"jitter":5"#)
            )
        }
    }

    /// §3.3: toxicity is a float32 printed in its shortest form; §3.5: it is not range-checked.
    @Test(arguments: [
        ("0.2", "0.2"), ("0.5", "0.5"), ("1", "1"), ("1.0", "1"), ("1e-1", "0.1"), ("2", "2"), ("-1", "-1"),
    ])
    func toxicityIsEchoedInShortestFloat32FormWithoutRangeCheck(sent: String, echoed: String) async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "tox", upstream: "localhost:19999")
            let response = try await server.admin.post("/proxies/tox/toxics", #"{"type":"noop","toxicity":\#(sent)}"#)
            Self.expectJSON(
                response,
                status: 200,
                body: Self.toxicJSON("noop_downstream", type: "noop", toxicity: echoed, attributes: "")
            )
        }
    }

    // MARK: GET /proxies/{p}/toxics/{t}

    @Test
    func getToxicAnswersTheToxicObject() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "g", upstream: "localhost:19999")
            let created = try await server.admin.post(
                "/proxies/g/toxics",
                #"{"name":"slow","type":"latency","stream":"upstream","toxicity":0.5,"attributes":{"latency":7}}"#
            )
            let toxic = Self.toxicJSON(
                "slow",
                type: "latency",
                stream: "upstream",
                toxicity: "0.5",
                attributes: #""latency":7,"jitter":0"#
            )
            Self.expectJSON(created, status: 200, body: toxic)
            Self.expectJSON(try await server.admin.get("/proxies/g/toxics/slow"), status: 200, body: toxic)
        }
    }

    // MARK: POST|PATCH /proxies/{p}/toxics/{t}

    @Test(arguments: ["POST", "PATCH"])
    func updateToxicMergesAttributesAndToxicityAndIgnoresImmutableFields(method: String) async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "u", upstream: "localhost:19999")
            let created = try await server.admin.post(
                "/proxies/u/toxics",
                #"{"name":"lat","type":"latency","attributes":{"latency":100,"jitter":1}}"#
            )
            #expect(created.status == 200)
            let response = try await server.admin.send(
                method,
                "/proxies/u/toxics/lat",
                body:
                    #"{"name":"other","type":"timeout","stream":"upstream","toxicity":0.25,"attributes":{"jitter":5}}"#
            )
            // §3.5: attributes are merged key by key; name, type and stream are silently kept.
            let expected = Self.toxicJSON(
                "lat",
                type: "latency",
                toxicity: "0.25",
                attributes: #""latency":100,"jitter":5"#
            )
            Self.expectJSON(response, status: 200, body: expected)
            Self.expectJSON(try await server.admin.get("/proxies/u/toxics/lat"), status: 200, body: expected)
            #expect(try await server.admin.get("/proxies/u/toxics/other").status == 404)

            // `{}` is a valid no-op update.
            Self.expectJSON(
                try await server.admin.send(method, "/proxies/u/toxics/lat", body: "{}"),
                status: 200,
                body: expected
            )
        }
    }

    // MARK: DELETE /proxies/{p}/toxics/{t}

    @Test
    func deleteToxicAnswers204AndTheToxicIsGone() async throws {
        try await withTestServer { server in
            try await Self.createProxy(server.admin, "d", upstream: "localhost:19999")
            #expect(try await server.admin.post("/proxies/d/toxics", #"{"type":"noop","name":"x"}"#).status == 200)
            Self.expectNoContent(try await server.admin.delete("/proxies/d/toxics/x"))
            Self.expectAPIError(
                try await server.admin.get("/proxies/d/toxics/x"),
                status: 404,
                message: "toxic not found"
            )
            Self.expectAPIError(
                try await server.admin.delete("/proxies/d/toxics/x"),
                status: 404,
                message: "toxic not found"
            )
            Self.expectJSON(try await server.admin.get("/proxies/d/toxics"), status: 200, body: "[]")
        }
    }

    // MARK: POST /populate

    @Test
    func populateAnswers201WithTheProxiesInRequestOrder() async throws {
        try await withTestServer { server in
            let response = try await server.admin.post(
                "/populate",
                #"[{"name":"zulu","listen":"127.0.0.1:0","upstream":"localhost:19999"},"#
                    + #"{"name":"alpha","listen":"localhost:4000","upstream":"localhost:19998","enabled":false,"#
                    + #""toxics":[{"type":"latency"}]}]"#
            )
            #expect(response.status == 201, "\(response)")
            let object = try Self.jsonValue(response.body) as? [String: Any]
            let first = (object?["proxies"] as? [[String: Any]])?.first
            let zuluPort = try #require(Self.port(of: first?["listen"] as? String))
            #expect(zuluPort != 0)
            // §3.5: request order (not sorted), `enabled` defaults to true, `toxics` ignored.
            Self.expectJSON(
                response,
                status: 201,
                body: #"{"proxies":["# + Self.proxyJSON("zulu", listen: "127.0.0.1:\(zuluPort)") + ","
                    + Self.proxyJSON("alpha", listen: "localhost:4000", upstream: "localhost:19998", enabled: false)
                    + "]}"
            )
            #expect(await Loopback.canConnect(port: zuluPort))
            #expect(try await server.admin.get("/proxies/alpha").status == 200)
        }
    }

    @Test
    func populateWithAnEmptyArrayAnswersNullProxies() async throws {
        try await withTestServer { server in
            Self.expectJSON(try await server.admin.post("/populate", "[]"), status: 201, body: #"{"proxies":null}"#)
        }
    }

    @Test(arguments: [
        (
            #"[{"name":"a","listen":"127.0.0.1:0","upstream":"u"},{"listen":"127.0.0.1:0","upstream":"u"}]"#,
            "name at proxy 2"
        ),
        (#"[{"name":"a","listen":"127.0.0.1:0","upstream":"u"},{"name":"b","upstream":""}]"#, "upstream at proxy 2"),
        (#"[{"name":"","upstream":"u"}]"#, "name at proxy 1"),
        (#"[{"name":"a","listen":"127.0.0.1:0"}]"#, "upstream at proxy 1"),
    ])
    func populateValidatesEveryEntryBeforeCreatingAny(body: String, missing: String) async throws {
        try await withTestServer { server in
            let response = try await server.admin.post("/populate", body)
            // §3.5: a JSON body even on error, with `proxies` null since nothing was processed.
            Self.expectJSON(
                response,
                status: 400,
                body: #"{"error":"missing required field: \#(missing)","status":400,"proxies":null}"#
            )
            Self.expectJSON(try await server.admin.get("/proxies"), status: 200, body: "{}")
        }
    }

    @Test
    func populateKeepsAnUnchangedProxyWithItsToxicsConnectionsAndState() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let upstream = "127.0.0.1:\(echoPort)"
                let first = try await server.admin.post(
                    "/populate",
                    #"[{"name":"keep","listen":"127.0.0.1:0","upstream":"\#(upstream)"}]"#
                )
                #expect(first.status == 201, "\(first)")
                let firstObject = try Self.jsonValue(first.body) as? [String: Any]
                let listen = (firstObject?["proxies"] as? [[String: Any]])?.first?["listen"] as? String
                let port = try #require(Self.port(of: listen))
                #expect(
                    try await server.admin.post("/proxies/keep/toxics", #"{"type":"noop","name":"n"}"#).status == 200
                )
                let kept = Self.proxyJSON(
                    "keep",
                    listen: "127.0.0.1:\(port)",
                    upstream: upstream,
                    toxics: [Self.toxicJSON("n", type: "noop", attributes: "")]
                )
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("a") == .echoed)
                    // Same resolved address and upstream: the existing proxy is returned untouched, and the
                    // entry's `enabled:false` is ignored (§3.5).
                    let again = try await server.admin.post(
                        "/populate",
                        #"[{"name":"keep","listen":"localhost:\#(port)","upstream":"\#(upstream)","enabled":false}]"#
                    )
                    Self.expectJSON(again, status: 201, body: #"{"proxies":[\#(kept)]}"#)
                    #expect(await live.probe("b") == .echoed)
                }
                Self.expectJSON(try await server.admin.get("/proxies/keep"), status: 200, body: kept)
            }
        }
    }

    @Test
    func populateReplacesAChangedProxyWithABrandNewOne() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await Self.createProxy(server.admin, "swap", upstream: "127.0.0.1:\(echoPort)")
                #expect(try await server.admin.post("/proxies/swap/toxics", #"{"type":"noop"}"#).status == 200)
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("a") == .echoed)
                    let response = try await server.admin.post(
                        "/populate",
                        #"[{"name":"swap","listen":"127.0.0.1:\#(port)","upstream":"localhost:\#(echoPort)"}]"#
                    )
                    // Toxics are lost and connections dropped: a brand-new proxy replaced the old one.
                    let replaced = Self.proxyJSON(
                        "swap",
                        listen: "127.0.0.1:\(port)",
                        upstream: "localhost:\(echoPort)"
                    )
                    Self.expectJSON(response, status: 201, body: #"{"proxies":[\#(replaced)]}"#)
                    #expect(await live.probe("b") == .closed)
                }
                try await Self.withLiveConnection(port: port) { live in
                    #expect(await live.probe("c") == .echoed)
                }
            }
        }
    }

    @Test
    func populateAlwaysReplacesADisabledProxyWithAHostnameListen() async throws {
        try await withTestServer { server in
            let entry = #"[{"name":"d","listen":"localhost:0","upstream":"localhost:19999","enabled":false}]"#
            let disabled = Self.proxyJSON("d", listen: "localhost:0", enabled: false)
            Self.expectJSON(
                try await server.admin.post("/populate", entry),
                status: 201,
                body: #"{"proxies":[\#(disabled)]}"#
            )
            #expect(try await server.admin.post("/proxies/d/toxics", #"{"type":"noop"}"#).status == 200)
            // §3.5: the stored `localhost:0` never equals its resolved form, so even an identical entry
            // replaces the proxy and its toxic is lost.
            Self.expectJSON(
                try await server.admin.post("/populate", entry),
                status: 201,
                body: #"{"proxies":[\#(disabled)]}"#
            )
            Self.expectJSON(try await server.admin.get("/proxies/d/toxics"), status: 200, body: "[]")
        }
    }

    @Test
    func populateStopsAtTheFirstFailureAndKeepsWhatItAppliedBefore() async throws {
        try await withTestServer { server in
            try await Loopback.withOccupiedPort { occupied in
                let response = try await server.admin.post(
                    "/populate",
                    #"[{"name":"first","listen":"127.0.0.1:0","upstream":"localhost:19999"},"#
                        + #"{"name":"second","listen":"127.0.0.1:\#(occupied)","upstream":"localhost:19999"},"#
                        + #"{"name":"third","listen":"127.0.0.1:0","upstream":"localhost:19999"}]"#
                )
                let object = try Self.jsonValue(response.body) as? [String: Any]
                let listen = (object?["proxies"] as? [[String: Any]])?.first?["listen"] as? String
                let port = try #require(Self.port(of: listen), "\(response)")
                let first = Self.proxyJSON("first", listen: "127.0.0.1:\(port)")
                // §3.5: `{"error":...,"status":N,"proxies":[...created so far...]}` as JSON, with status N.
                Self.expectJSON(
                    response,
                    status: 500,
                    body: #"{"error":"listen tcp 127.0.0.1:\#(occupied): bind: address already in use","#
                        + #""status":500,"proxies":[\#(first)]}"#
                )
                Self.expectJSON(try await server.admin.get("/proxies"), status: 200, body: #"{"first":\#(first)}"#)
            }
        }
    }

    @Test(arguments: ["[", "", #"{"name":"x","upstream":"y"}"#, #"[{"name":1}]"#])
    func populateBadBodyIsAJSONError(body: String) async throws {
        try await withTestServer { server in
            let response = try await server.admin.post("/populate", body)
            #expect(response.status == 400)
            #expect(response.header("Content-Type") == "application/json")
            #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")))
            let object = try Self.jsonValue(response.body) as? [String: Any]
            #expect((object?["error"] as? String)?.hasPrefix("bad request body: ") == true, "\(response)")
            #expect(object?["status"] as? Int == 400)
            #expect(object?["proxies"] is NSNull)
            #expect(!response.body.hasSuffix("\n"))
            Self.expectJSON(try await server.admin.get("/proxies"), status: 200, body: "{}")
        }
    }

    // MARK: POST /reset

    @Test
    func resetEnablesEveryProxyAndRemovesEveryToxicWithoutDeletingProxies() async throws {
        try await withTestServer { server in
            let onPort = try await Self.createProxy(server.admin, "on", upstream: "localhost:19999")
            let offPort = try await Self.createProxy(server.admin, "off", upstream: "localhost:19998")
            for (proxy, body) in [
                ("on", #"{"type":"latency","stream":"upstream"}"#), ("on", #"{"type":"noop"}"#),
                ("off", #"{"type":"timeout","attributes":{"timeout":1000}}"#),
            ] {
                #expect(try await server.admin.post("/proxies/\(proxy)/toxics", body).status == 200)
            }
            #expect(try await server.admin.post("/proxies/off", #"{"enabled":false}"#).status == 200)
            #expect(await !Loopback.canConnect(port: offPort))

            // §3.5: the body is ignored.
            Self.expectNoContent(try await server.admin.post("/reset", "not json at all"))
            Self.expectJSON(
                try await server.admin.get("/proxies"),
                status: 200,
                body: #"{"off":\#(Self.proxyJSON("off", listen: "127.0.0.1:\(offPort)", upstream: "localhost:19998")),"#
                    + #""on":\#(Self.proxyJSON("on", listen: "127.0.0.1:\(onPort)"))}"#
            )
            #expect(await Loopback.canConnect(port: offPort))
        }
    }

    // MARK: Unknown paths and methods

    @Test(arguments: [
        ("GET", "/"), ("GET", "/nope"), ("GET", "/proxies/"), ("POST", "/proxies/"), ("GET", "/proxies/p/"),
        ("GET", "/proxies/p/toxics/"), ("GET", "/proxies/p/toxics/t/"), ("GET", "/proxies/p/toxics/t/x"),
        ("GET", "/version/"), ("POST", "/populate/"), ("GET", "/Proxies"), ("DELETE", "/nope"), ("PUT", "/x/y"),
        ("GET", "/version/x"), ("POST", "/reset/x"), ("GET", "/proxies/p/x"), ("GET", "/a/b/c/d"),
        ("GET", "/proxies/p/toxics/t/x/y"),
        // §3.4: `/metrics` only exists with a metrics flag, and the test server has none.
        ("GET", "/metrics"),
    ])
    func unknownPathIsAPlain404WithoutRequestID(method: String, path: String) async throws {
        try await withTestServer { server in
            Self.expectPageNotFound(try await server.admin.send(method, path))
            // The browser blocker only runs on matched routes (§3.1).
            Self.expectPageNotFound(try await server.admin.send(method, path, headers: [("User-Agent", Self.browser)]))
        }
    }

    @Test(arguments: [
        ("PUT", "/proxies"), ("DELETE", "/proxies"), ("PATCH", "/proxies"), ("HEAD", "/proxies"),
        ("OPTIONS", "/proxies"), ("DELETE", "/version"), ("HEAD", "/version"), ("POST", "/version"),
        ("OPTIONS", "/version"), ("GET", "/populate"), ("PUT", "/populate"), ("GET", "/reset"), ("DELETE", "/reset"),
        ("PUT", "/proxies/p"), ("HEAD", "/proxies/p"), ("OPTIONS", "/proxies/p"), ("PUT", "/proxies/p/toxics"),
        ("DELETE", "/proxies/p/toxics"), ("PATCH", "/proxies/p/toxics"), ("PUT", "/proxies/p/toxics/t"),
        ("OPTIONS", "/proxies/p/toxics/t"),
    ])
    func knownPathWithAnotherMethodIsAnEmpty405(method: String, path: String) async throws {
        try await withTestServer { server in
            Self.expectMethodNotAllowed(try await server.admin.send(method, path))
            Self.expectMethodNotAllowed(
                try await server.admin.send(method, path, headers: [("User-Agent", Self.browser)])
            )
        }
    }

    // MARK: Browser blocker

    @Test(
        arguments: [
            ("GET", "/version", nil), ("GET", "/proxies", nil),
            ("POST", "/proxies", #"{"name":"b","listen":"127.0.0.1:0","upstream":"localhost:19999"}"#),
            ("POST", "/populate", #"[{"name":"b","listen":"127.0.0.1:0","upstream":"localhost:19999"}]"#),
            ("POST", "/reset", nil), ("GET", "/proxies/nope", nil), ("DELETE", "/proxies/nope", nil),
            ("GET", "/proxies/nope/toxics", nil), ("POST", "/proxies/nope/toxics", #"{"type":"noop"}"#),
            ("PATCH", "/proxies/nope/toxics/t", "{}"),
        ] as [(String, String, String?)]
    )
    func browserUserAgentIsBlockedOnMatchedRoutes(method: String, path: String, body: String?) async throws {
        try await withTestServer { server in
            let response = try await server.admin.send(
                method,
                path,
                body: body,
                headers: [("User-Agent", Self.browser)]
            )
            #expect(response.status == 403)
            #expect(response.body == "User agent not allowed\n")
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")))
            // The blocked request had no effect.
            Self.expectJSON(try await server.admin.get("/proxies"), status: 200, body: "{}")
        }
    }

    /// §3.1: the prefix is case-sensitive and must include the slash; no User-Agent at all is fine.
    @Test(arguments: [nil, "curl/8.5.0", "Wget/1.21.4", "mozilla/5.0", "Mozilla", "python-requests/2.31"] as [String?])
    func otherUserAgentsAreAllowed(agent: String?) async throws {
        try await withTestServer { server in
            let headers = agent.map { [("User-Agent", $0)] } ?? []
            let response = try await server.admin.send("GET", "/version", headers: headers)
            #expect(response.status == 200)
            #expect(response.body == "{\"version\": \"2.12.0\"}\n")
        }
    }

    // MARK: JSON request decoding (§3.2)

    @Test(arguments: ["text/plain", "application/x-www-form-urlencoded", nil] as [String?])
    func requestContentTypeIsIgnored(contentType: String?) async throws {
        try await withTestServer { server in
            let body = #"{"name":"plain","listen":"localhost:3310","upstream":"localhost:19999","enabled":false}"#
            var request = "POST /proxies HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            if let contentType { request += "Content-Type: \(contentType)\r\n" }
            request += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let raw = try await TCPTestClient.exchange(
                host: "127.0.0.1",
                port: server.adminPort,
                send: Array(request.utf8)
            )
            let text = String(decoding: raw, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 201 "), "\(text)")
            Self.expectJSON(
                try await server.admin.get("/proxies/plain"),
                status: 200,
                body: Self.proxyJSON("plain", listen: "localhost:3310", enabled: false)
            )
        }
    }

    @Test
    func keysMatchCaseInsensitively() async throws {
        try await withTestServer { server in
            let created = try await server.admin.post(
                "/proxies",
                #"{"NAME":"ci","Listen":"localhost:3310","UpStream":"localhost:19999","ENABLED":false}"#
            )
            Self.expectJSON(created, status: 201, body: Self.proxyJSON("ci", listen: "localhost:3310", enabled: false))
            let toxic = try await server.admin.post(
                "/proxies/ci/toxics",
                #"{"TYPE":"latency","Stream":"upstream","Attributes":{"LATENCY":100,"Jitter":7},"TOXICITY":0.5}"#
            )
            Self.expectJSON(
                toxic,
                status: 200,
                body: Self.toxicJSON(
                    "latency_upstream",
                    type: "latency",
                    stream: "upstream",
                    toxicity: "0.5",
                    attributes: #""latency":100,"jitter":7"#
                )
            )
            let updated = try await server.admin.patch(
                "/proxies/ci/toxics/latency_upstream",
                #"{"ATTRIBUTES":{"JITTER":3}}"#
            )
            #expect(updated.body.contains(#""latency":100,"jitter":3"#), "\(updated)")
        }
    }

    @Test
    func unknownKeysAreIgnoredDuplicatesTakeTheLastAndTrailingGarbageIsAccepted() async throws {
        try await withTestServer { server in
            let created = try await server.admin.post(
                "/proxies",
                #"{"name":"first","colour":"blue","name":"second","listen":"localhost:3310","upstream":"u","#
                    + #""enabled":false,"nested":{"a":[1,2]}} trailing garbage {"#
            )
            Self.expectJSON(
                created,
                status: 201,
                body: Self.proxyJSON("second", listen: "localhost:3310", upstream: "u", enabled: false)
            )
            let toxic = try await server.admin.post("/proxies/second/toxics", #"{"type":"noop","extra":1}xyz"#)
            Self.expectJSON(toxic, status: 200, body: Self.toxicJSON("noop_downstream", type: "noop", attributes: ""))
        }
    }

    @Test
    func nullEnabledOnCreateLeavesTheDefaultOfTrue() async throws {
        try await withTestServer { server in
            let response = try await server.admin.post(
                "/proxies",
                #"{"name":"n","listen":"127.0.0.1:0","upstream":"localhost:19999","enabled":null}"#
            )
            let port = try Self.listenPort(response)
            Self.expectJSON(response, status: 201, body: Self.proxyJSON("n", listen: "127.0.0.1:\(port)"))
            #expect(await Loopback.canConnect(port: port))
        }
    }
}

// MARK: - Helpers

extension AdminAPIRouteTests {
    fileprivate static let browser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

    /// §3.1: a 20-character xid, base32hex in lower case (`0-9a-v`).
    fileprivate static func isRequestID(_ value: String?) -> Bool {
        guard let value, value.utf8.count == 20 else { return false }
        return value.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x76).contains($0) }
    }

    /// A matched route's JSON answer (§3.3): exact bytes, `application/json`, a request id.
    fileprivate static func expectJSON(
        _ response: AdminClient.Response,
        status: Int,
        body: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, "\(response)", sourceLocation: sourceLocation)
        #expect(response.body == body, sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
        #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")), sourceLocation: sourceLocation)
    }

    /// Go's `http.Error` with the JSON error object (§3.3).
    fileprivate static func expectAPIError(
        _ response: AdminClient.Response,
        status: Int,
        message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.body == #"{"error":"\#(message)","status":\#(status)}"# + "\n", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8", sourceLocation: sourceLocation)
        #expect(response.header("X-Content-Type-Options") == "nosniff", sourceLocation: sourceLocation)
        #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")), sourceLocation: sourceLocation)
    }

    /// §3.3: 204 has no body and no content type; it is still a matched route.
    fileprivate static func expectNoContent(
        _ response: AdminClient.Response,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == 204, "\(response)", sourceLocation: sourceLocation)
        #expect(response.body.isEmpty, sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == nil, sourceLocation: sourceLocation)
        #expect(Self.isRequestID(response.header("X-Toxiproxy-Request-Id")), sourceLocation: sourceLocation)
    }

    /// §3.1: gorilla/mux's not-found answer, outside the per-route middleware.
    fileprivate static func expectPageNotFound(
        _ response: AdminClient.Response,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == 404, "\(response)", sourceLocation: sourceLocation)
        #expect(response.body == "404 page not found\n", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8", sourceLocation: sourceLocation)
        #expect(response.header("X-Toxiproxy-Request-Id") == nil, sourceLocation: sourceLocation)
    }

    /// §3.1: empty, no content type, no request id.
    fileprivate static func expectMethodNotAllowed(
        _ response: AdminClient.Response,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == 405, "\(response)", sourceLocation: sourceLocation)
        #expect(response.body.isEmpty, sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == nil, sourceLocation: sourceLocation)
        #expect(response.header("X-Toxiproxy-Request-Id") == nil, sourceLocation: sourceLocation)
    }

    /// The proxy object of §3.3, key order and `"Logger":{}` included.
    fileprivate static func proxyJSON(
        _ name: String,
        listen: String,
        upstream: String = "localhost:19999",
        enabled: Bool = true,
        toxics: [String] = []
    ) -> String {
        #"{"name":"\#(name)","listen":"\#(listen)","upstream":"\#(upstream)","enabled":\#(enabled),"Logger":{},"#
            + #""toxics":[\#(toxics.joined(separator: ","))]}"#
    }

    /// The toxic object of §3.3, in its key order.
    fileprivate static func toxicJSON(
        _ name: String,
        type: String,
        stream: String = "downstream",
        toxicity: String = "1",
        attributes: String
    ) -> String {
        #"{"attributes":{\#(attributes)},"name":"\#(name)","type":"\#(type)","stream":"\#(stream)","#
            + #""toxicity":\#(toxicity)}"#
    }

    fileprivate static func jsonValue(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    fileprivate static func port(of listen: String?) -> Int? {
        guard let listen, let colon = listen.lastIndex(of: ":") else { return nil }
        return Int(listen[listen.index(after: colon)...])
    }

    /// The port in a proxy response's `listen`.
    fileprivate static func listenPort(_ response: AdminClient.Response) throws -> Int {
        let object = try Self.jsonValue(response.body) as? [String: Any]
        guard let port = Self.port(of: object?["listen"] as? String) else {
            throw TestFailure("no listen port in \(response)")
        }
        return port
    }

    /// Creates an enabled proxy on 127.0.0.1 with a kernel-chosen port and returns that port.
    @discardableResult
    fileprivate static func createProxy(_ admin: AdminClient, _ name: String, upstream: String) async throws -> Int {
        let response = try await admin.post(
            "/proxies",
            #"{"name":"\#(name)","listen":"127.0.0.1:0","upstream":"\#(upstream)"}"#
        )
        guard response.status == 201 else { throw TestFailure("create \(name): \(response)") }
        return try Self.listenPort(response)
    }

    /// Runs `body` with a client connection through a proxy (to an echo upstream) that stays open meanwhile.
    fileprivate static func withLiveConnection<T: Sendable>(
        port: Int,
        _ body: (inout LiveConnection) async throws -> T
    ) async throws -> T {
        let connection = try await TCPTestClient.connect(port: port)
        return try await connection.executeThenClose { inbound, outbound in
            var live = LiveConnection(
                channel: connection.channel,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound
            )
            return try await body(&live)
        }
    }

    /// A client connection whose state can be probed: a message either comes back from the echo upstream or the
    /// connection is found closed; a watchdog turns a hang into `.timedOut` instead of a stuck test.
    fileprivate struct LiveConnection {
        enum Probe: Equatable {
            case echoed
            case closed
            case timedOut
        }

        private actor Watchdog {
            private(set) var fired = false
            func fire() { self.fired = true }
        }

        let channel: any Channel
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

        mutating func probe(_ text: String, within limit: Duration = .seconds(3)) async -> Probe {
            let watchdog = Watchdog()
            let channel = self.channel
            let timer = Task {
                try await Task.sleep(for: limit)
                await watchdog.fire()
                try? await channel.close()
            }
            defer { timer.cancel() }
            do {
                try await self.outbound.write(ByteBuffer(string: text))
            } catch {
                return .closed
            }
            var received: [UInt8] = []
            do {
                while received.count < text.utf8.count, let buffer = try await self.inbound.next() {
                    received.append(contentsOf: buffer.readableBytesView)
                }
            } catch {
                // A reset is a close as far as these tests are concerned.
            }
            if await watchdog.fired { return .timedOut }
            return received == Array(text.utf8) ? .echoed : .closed
        }
    }
}
