import Testing
import ToxiproxyModel

@Suite struct APIErrorTests {
    private struct Boom: Error {}

    @Test(arguments: [
        (APIError.proxyNotFound, 404, "proxy not found"),
        (.toxicNotFound, 404, "toxic not found"),
        (.proxyAlreadyExists, 409, "proxy already exists"),
        (.toxicAlreadyExists, 409, "toxic already exists"),
        (.invalidStream, 400, "stream was invalid, can be either upstream or downstream"),
        (.invalidToxicType, 400, "invalid toxic type"),
        (.badRequestBody("EOF"), 400, "bad request body: EOF"),
        (.missingField("name"), 400, "missing required field: name"),
        (.missingField("upstream", proxyIndex: 2), 400, "missing required field: upstream at proxy 2"),
        (.invalidAttribute("rate must not be negative"), 400, "rate must not be negative"),
        (
            .listenFailed("listen tcp 127.0.0.1:3310: bind: address already in use"), 500,
            "listen tcp 127.0.0.1:3310: bind: address already in use"
        ),
        (.internalError(), 500, "internal server error"),
    ])
    func catalogueMessagesAndStatuses(error: APIError, status: Int, message: String) {
        #expect(error.status == status)
        #expect(error.message == message)
        #expect(error.description == message)
    }

    @Test func codesIdentifyTheKindOfError() {
        #expect(APIError.proxyNotFound.code == .proxyNotFound)
        #expect(APIError.badRequestBody("x").code == .badRequestBody)
        #expect(APIError.missingField("name").code == .missingField)
        #expect(APIError.invalidAttribute("x").code == .invalidAttribute)
        #expect(APIError.listenFailed("x").code == .listenFailed)
        #expect(APIError.internalError().code == .internalError)
        let codes: Set<APIError.Code> = [
            .badRequestBody, .missingField, .invalidStream, .invalidToxicType, .invalidAttribute, .proxyNotFound,
            .toxicNotFound, .proxyAlreadyExists, .toxicAlreadyExists, .listenFailed, .internalError,
        ]
        #expect(codes.count == 11)
    }

    @Test func jsonBodyHasTheReferenceShape() {
        #expect(APIError.proxyNotFound.jsonBody == #"{"error":"proxy not found","status":404}"#)
        #expect(
            APIError.badRequestBody("invalid character '<' looking for beginning of value").jsonBody
                == #"{"error":"bad request body: invalid character '\u003c' looking for beginning of value","#
                + #""status":400}"#
        )
    }

    @Test func syntaxErrorsBecomeBadRequestBodies() {
        let message = syntaxError("")
        #expect(message == "EOF")
        #expect(APIError.badRequestBody(message ?? "").jsonBody == #"{"error":"bad request body: EOF","status":400}"#)
    }

    @Test func equalityIgnoresTheCause() {
        let withCause = APIError(code: .listenFailed, status: 500, message: "m", cause: Boom())
        let without = APIError(code: .listenFailed, status: 500, message: "m")
        #expect(withCause == without)
        #expect(withCause.cause is Boom)
        #expect(without != APIError(code: .internalError, status: 500, message: "m"))
        #expect(without != APIError(code: .listenFailed, status: 503, message: "m"))
    }
}
