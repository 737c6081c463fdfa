import Foundation
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain blocking POSIX sockets, used on dedicated threads by the churn test: far cheaper per connection
/// than a NIO channel in a debug build, and they never block a thread of the cooperative pool.
enum BlockingSocket {
    enum Failure: Error, CustomStringConvertible {
        case call(String, Int32)
        case shortEcho(Int)
        case wrongEcho
        case timedOut(Int)

        var description: String {
            switch self {
            case .call(let name, let code): "\(name): \(String(cString: strerror(code))) (errno \(code))"
            case .shortEcho(let count): "echo ended after \(count) of 8 bytes"
            case .wrongEcho: "the echo differs from what was sent"
            case .timedOut(let count): "no end of the answer in time (\(count) bytes so far)"
            }
        }
    }

    /// A connected TCP socket to 127.0.0.1:`port`, with send and receive timeouts of `timeout` seconds.
    static func connect(port: Int, timeout: Int = 10) throws(Failure) -> Int32 {
        #if canImport(Glibc) || canImport(Musl)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw .call("socket", errno) }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                systemConnect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(descriptor)
            throw .call("connect", code)
        }
        return descriptor
    }

    /// Writes 8 bytes and reads them back (the proxy's upstream is an echo server).
    static func echo(_ descriptor: Int32, _ value: UInt64) throws(Failure) {
        var outgoing = value
        let written = withUnsafeBytes(of: &outgoing) { systemSend(descriptor, $0.baseAddress, 8, Int32(MSG_NOSIGNAL)) }
        guard written == 8 else { throw .call("send", errno) }
        var incoming: UInt64 = 0
        var received = 0
        while received < 8 {
            let count = withUnsafeMutableBytes(of: &incoming) {
                recv(descriptor, $0.baseAddress! + received, 8 - received, 0)
            }
            if count < 0 { throw .call("recv", errno) }
            if count == 0 { throw .shortEcho(received) }
            received += count
        }
        guard incoming == value else { throw .wrongEcho }
    }

    /// Sends all of `bytes`.
    static func send(_ descriptor: Int32, _ bytes: [UInt8]) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes {
                systemSend(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw .call("send", errno) }
            offset += count
        }
    }

    /// One read of at most `limit` bytes: what arrived (empty at the end of the stream), or the error
    /// (`ECONNRESET`, or `EAGAIN` when the receive timeout passed).
    static func receive(_ descriptor: Int32, limit: Int = 64 * 1024) -> (bytes: [UInt8], error: Int32?) {
        var buffer = [UInt8](repeating: 0, count: limit)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, limit, 0) }
        guard count >= 0 else { return ([], errno) }
        return (Array(buffer.prefix(count)), nil)
    }

    /// Sends `request` and reads until the server closes, both at once (poll), so that a server answering
    /// before it has read the whole request is heard; throws when that takes longer than `timeout`.
    static func exchange(port: Int, _ request: [UInt8], timeout: Duration) throws(Failure) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        let descriptor = try Self.connect(port: port)
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var sent = 0
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw .timedOut(received.count) }
            var events = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if sent < request.count { events.events |= Int16(POLLOUT) }
            let ready = poll(&events, 1, Int32(max(1, remaining.milliseconds.rounded(.up))))
            if ready < 0 && errno != EINTR { throw .call("poll", errno) }
            if ready <= 0 { continue }
            if events.revents & Int16(POLLOUT) != 0 && sent < request.count {
                let count = request.withUnsafeBytes {
                    systemSend(
                        descriptor,
                        $0.baseAddress! + sent,
                        min(64 * 1024, request.count - sent),
                        Int32(MSG_NOSIGNAL)
                    )
                }
                if count > 0 {
                    sent += count
                } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                    // The server answered and closed before reading everything (the 413 case): read on.
                    sent = request.count
                }
            }
            if events.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    received += buffer.prefix(count)
                } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                    // End of stream, or a reset after the answer: what arrived is the answer.
                    return received
                }
            }
        }
    }

    /// Closes with an RST instead of a FIN (SO_LINGER with a zero timeout), as a crashing client would.
    static func closeWithReset(_ descriptor: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(descriptor)
    }
}

#if canImport(Glibc)
private let systemConnect = Glibc.connect
private let systemSend = Glibc.send
#elseif canImport(Musl)
private let systemConnect = Musl.connect
private let systemSend = Musl.send
#elseif canImport(Darwin)
private let systemConnect = Darwin.connect
private let systemSend = Darwin.send
#endif

/// Runs `body` on a new thread and waits for its result without blocking the caller's thread.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: body())
        }
        thread.start()
    }
}
