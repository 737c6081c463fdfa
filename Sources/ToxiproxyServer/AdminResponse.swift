import HTTPTypes
import Hummingbird
import NIOCore
import ToxiproxyModel

/// Responses shaped byte for byte like the reference server's (Go `net/http` + gorilla/mux).
enum AdminResponse {
    static let requestIDField = HTTPField.Name("X-Toxiproxy-Request-Id")!
    static let contentTypeOptionsField = HTTPField.Name("X-Content-Type-Options")!

    /// A success body: `application/json`, no trailing newline.
    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }

    /// Go's `http.Error`: the JSON error text, a newline, and a plain-text content type.
    static func error(_ error: APIError) -> Response {
        self.plainText(error.jsonBody + "\n", status: .init(code: error.status))
    }

    static func plainText(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/plain; charset=utf-8",
                Self.contentTypeOptionsField: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// gorilla/mux's answer for a path no route matches.
    static func pageNotFound() -> Response {
        self.plainText("404 page not found\n", status: .notFound)
    }

    /// gorilla/mux's answer for a known path with another method: empty, no content type, no request id.
    static func methodNotAllowed() -> Response {
        Response(status: .methodNotAllowed)
    }

    static func browserBlocked() -> Response {
        self.plainText("User agent not allowed\n", status: .forbidden)
    }

    /// A fresh 20-character id in the alphabet of the reference's xid (base32hex, lower case).
    static func makeRequestID() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuv")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt32(32)))] })
    }
}

extension String {
    /// Percent-decodes a path segment (`%2F` → `/`); nil for a malformed escape.
    func removingPathPercentEncoding() -> String? {
        guard self.contains("%") else { return self }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.utf8.count)
        var iterator = self.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
