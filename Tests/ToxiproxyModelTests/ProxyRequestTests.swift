import Testing
import ToxiproxyModel

@Suite struct ProxyRequestTests {
    private func decode(_ text: String) throws -> ProxyRequest {
        try ProxyRequest.decode(json(text))
    }

    private func decodeError(_ text: String) throws -> String? {
        let value = try json(text)
        return thrownError { () throws(APIError) in _ = try ProxyRequest.decode(value) }?.message
    }

    private func decodeListError(_ text: String) throws -> String? {
        let value = try json(text)
        return thrownError { () throws(APIError) in _ = try ProxyRequest.decodeList(value) }?.message
    }

    @Test func decodesAllFields() throws {
        #expect(
            try decode(#"{"name":"p1","listen":"127.0.0.1:0","upstream":"localhost:6379","enabled":false}"#)
                == ProxyRequest(name: "p1", listen: "127.0.0.1:0", upstream: "localhost:6379", enabled: false)
        )
    }

    @Test func keysAreCaseInsensitive() throws {
        #expect(
            try decode(#"{"NAME":"p","UpStream":"u","Listen":"l","ENABLED":true}"#)
                == ProxyRequest(name: "p", listen: "l", upstream: "u", enabled: true)
        )
    }

    @Test func keysFoldLikeGoIncludingNonASCIILetters() throws {
        #expect(
            try decode(#"{"upſtream":"u","li\u017Ften":"l","\u212Aey":1}"#) == ProxyRequest(listen: "l", upstream: "u")
        )
    }

    @Test func theLastMemberWinsWhateverItsCase() throws {
        #expect(try decode(#"{"name":"a","NAME":"b"}"#).name == "b")
        #expect(try decode(#"{"Name":"b","name":"a"}"#).name == "a")
        #expect(try decode(#"{"enabled":true,"enabled":false}"#).enabled == false)
    }

    @Test func nullLeavesFieldsAbsent() throws {
        #expect(try decode(#"{"name":null,"listen":null,"upstream":null,"enabled":null}"#) == ProxyRequest())
        #expect(try decode(#"{"name":"a","name":null}"#).name == "a")
        #expect(try ProxyRequest.decode(.null) == ProxyRequest())
    }

    @Test func unknownAndOutputOnlyKeysAreIgnored() throws {
        #expect(
            try decode(#"{"name":"p","toxics":[{"type":"latency"}],"Logger":{"level":1},"logger":null,"x":1}"#)
                == ProxyRequest(name: "p")
        )
    }

    @Test func trailingGarbageAfterTheBodyIsIgnored() throws {
        #expect(try decode(#"{"name":"p","upstream":"u"} garbage"#) == ProxyRequest(name: "p", upstream: "u"))
    }

    @Test(arguments: [
        (#"{"name":1}"#, "number into Go struct field Proxy.name of type string"),
        (#"{"listen":false}"#, "bool into Go struct field Proxy.listen of type string"),
        (#"{"UPSTREAM":{}}"#, "object into Go struct field Proxy.upstream of type string"),
        (#"{"enabled":"true"}"#, "string into Go struct field Proxy.enabled of type bool"),
        (#"{"enabled":1}"#, "number into Go struct field Proxy.enabled of type bool"),
        (#"{"Logger":"x"}"#, "string into Go struct field Proxy.Logger of type zerolog.Logger"),
        ("[]", "array into Go value of type toxiproxy.Proxy"),
        (#""p1""#, "string into Go value of type toxiproxy.Proxy"),
        ("5", "number into Go value of type toxiproxy.Proxy"),
    ])
    func wrongTypesAreRejectedWithGoMessages(text: String, detail: String) throws {
        #expect(try decodeError(text) == "bad request body: json: cannot unmarshal " + detail)
    }

    @Test func theFirstTypeErrorIsReported() throws {
        #expect(try decodeError(#"{"enabled":"x","name":1}"#)?.contains("Proxy.enabled") == true)
    }

    // MARK: - Populate

    @Test func decodeListReadsEveryEntry() throws {
        let requests = try ProxyRequest.decodeList(
            json(#"[{"name":"a","upstream":"u"},null,{"NAME":"b","enabled":false,"toxics":[]}]"#)
        )
        #expect(
            requests == [
                ProxyRequest(name: "a", upstream: "u"), ProxyRequest(), ProxyRequest(name: "b", enabled: false),
            ]
        )
    }

    @Test func decodeListAcceptsEmptyAndNull() throws {
        #expect(try ProxyRequest.decodeList(json("[]")) == [])
        #expect(try ProxyRequest.decodeList(.null) == [])
    }

    @Test(arguments: [
        (#"{"name":"a"}"#, "object into Go value of type []toxiproxy.Proxy"),
        (#""a""#, "string into Go value of type []toxiproxy.Proxy"),
        (#"[{"name":"a"},{"name":1}]"#, "number into Go struct field Proxy.name of type string"),
        (#"[{"name":"a"},7]"#, "number into Go value of type toxiproxy.Proxy"),
    ])
    func decodeListRejectsWrongTypes(text: String, detail: String) throws {
        #expect(try decodeListError(text) == "bad request body: json: cannot unmarshal " + detail)
    }
}
