import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `host:port` string in Go's `net` syntax, split and resolved the way the reference server does it.
///
/// The reference stores `listen` exactly as given until a bind succeeds, then rewrites it to the bound
/// address in Go's format (`127.0.0.1:PORT`, `[::]:PORT`), so these helpers keep Go's error texts too:
/// they reach clients verbatim in 500 bodies.
enum ListenAddress {
    struct SplitError: Error, Equatable, CustomStringConvertible {
        var address: String
        var reason: String
        var description: String { "address \(self.address): \(self.reason)" }
    }

    /// Go's `net.SplitHostPort`.
    static func splitHostPort(_ address: String) throws(SplitError) -> (host: String, port: String) {
        let missingPort = SplitError(address: address, reason: "missing port in address")
        let tooManyColons = SplitError(address: address, reason: "too many colons in address")
        guard let lastColon = address.lastIndex(of: ":") else { throw missingPort }
        var host: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else {
                throw SplitError(address: address, reason: "missing ']' in address")
            }
            let afterClose = address.index(after: close)
            if afterClose == address.endIndex { throw missingPort }
            guard afterClose == lastColon else {
                if address[afterClose] == ":" { throw tooManyColons }
                throw missingPort
            }
            host = address[address.index(after: address.startIndex)..<close]
        } else {
            host = address[..<lastColon]
            if host.contains(":") { throw tooManyColons }
        }
        if host.contains("[") || host.contains("]") {
            throw SplitError(address: address, reason: "unexpected '[' or ']' in address")
        }
        let port = address[address.index(after: lastColon)...]
        if port.contains("[") || port.contains("]") {
            throw SplitError(address: address, reason: "unexpected '[' or ']' in address")
        }
        return (String(host), String(port))
    }

    struct ResolveError: Error, CustomStringConvertible {
        var description: String
    }

    /// Resolves `host:port` to one socket address as Go's `net.ResolveTCPAddr` does for listening: an empty
    /// host means every interface (dual-stack `::`), a hostname resolves to its first IPv4 address if it has
    /// one. Blocking (getaddrinfo) for hostnames; callers run it off the event loops.
    static func resolve(_ address: String) throws -> SocketAddress {
        if address.isEmpty {
            return try SocketAddress(ipAddress: "::", port: 0)
        }
        let (host, portText) = try splitHostPort(address)
        let port = try self.parsePort(portText, address: address)
        if host.isEmpty {
            return try SocketAddress(ipAddress: "::", port: port)
        }
        if let literal = try? SocketAddress(ipAddress: host, port: port) {
            return literal
        }
        return try self.lookup(host: host, port: port)
    }

    /// `resolve` on a thread-pool thread when a hostname needs a (blocking) lookup.
    static func resolveOffLoop(_ address: String) async throws -> SocketAddress {
        if address.isEmpty { return try self.resolve(address) }
        let (host, _) = try splitHostPort(address)
        if host.isEmpty || (try? SocketAddress(ipAddress: host, port: 0)) != nil {
            return try self.resolve(address)
        }
        return try await NIOThreadPool.singleton.runIfActive { try self.resolve(address) }
    }

    private static func parsePort(_ text: String, address: String) throws -> Int {
        if text.isEmpty { return 0 }
        guard let port = Int(text), port >= 0 else {
            if let service = knownServices[text] { return service }
            throw ResolveError(description: "lookup tcp/\(text): unknown port")
        }
        guard port <= 65535 else {
            throw ResolveError(description: "address \(address): invalid port")
        }
        return port
    }

    private static let knownServices: [String: Int] = ["http": 80, "https": 443]

    private static func lookup(host: String, port: Int) throws -> SocketAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw ResolveError(description: "lookup \(host): no such host")
        }
        defer { freeaddrinfo(first) }
        var candidates: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let sockaddr = info.pointee.ai_addr {
                switch info.pointee.ai_family {
                case AF_INET:
                    let v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                    candidates.append(SocketAddress(v4, host: host))
                case AF_INET6:
                    let v6 = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                    candidates.append(SocketAddress(v6, host: host))
                default:
                    break
                }
            }
            cursor = info.pointee.ai_next
        }
        if let v4 = candidates.first(where: { $0.protocol == .inet }) { return v4 }
        if let any = candidates.first { return any }
        throw ResolveError(description: "lookup \(host): no such host")
    }

    /// Go's `TCPAddr.String()`: `127.0.0.1:80`, `[::1]:80`.
    static func format(_ address: SocketAddress) -> String {
        let port = address.port ?? 0
        switch address {
        case .v6:
            return "[\(address.ipAddress ?? "::")]:\(port)"
        default:
            return "\(address.ipAddress ?? ""):\(port)"
        }
    }
}
