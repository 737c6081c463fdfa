import NIOCore

/// What a link sends to a new upstream: nothing while the dial is in progress, then one segment, then the
/// rest once the upstream's kernel has acknowledged that segment (or the upstream has sent something itself).
///
/// A client is not read while its upstream is being dialled, but NIO reads a socket to its end at once when
/// the kernel reports the peer's FIN (EPOLLRDHUP): a client that sends its request and half-closes straight
/// away hands over everything before there is anywhere to write it, so it is held here.
///
/// Why: a listener whose SYN queue is full (a small backlog, a burst of dials) answers with a SYN cookie and
/// keeps no state. If its accept queue is full when our handshake's last ACK arrives, that ACK is dropped and
/// the connection exists on our side only. The upstream's kernel then builds it from our first data segment,
/// whose sequence number the cookie was made for, once its accept queue has room; any later segment fails the
/// cookie check and is answered with a reset. A burst of the client's bytes, all it sent while we dialled,
/// was so turned into a reset before a single byte was delivered. A lone first segment is always either
/// accepted or dropped and retransmitted, and its acknowledgement proves the upstream has a real socket.
/// The price: bytes beyond the first segment of the first flight wait one round trip to the upstream.
struct FirstSegmentGate {
    enum State: Equatable {
        /// The upstream is not connected yet: everything is held.
        case dialling
        /// Connected, and nothing has gone to the upstream yet.
        case closed
        /// The first segment is out; everything after it is held.
        case awaitingAcknowledgement
        /// The upstream has a socket: everything passes.
        case open
    }

    enum Admission {
        /// Send the element as it is.
        case pass(StreamElement)
        /// Send these bytes, the first segment, then call `open()` once they are acknowledged; the rest of the
        /// element, if any, is held.
        case probe(Chunk)
        /// The element is held until `open()`.
        case hold
    }

    private(set) var state = State.dialling
    private var held: [StreamElement] = []
    /// Bytes held right now.
    private(set) var heldBytes = 0

    /// Offers the next element for the upstream; `segmentSize` is the connection's maximum segment size.
    mutating func admit(_ element: StreamElement, segmentSize: Int) -> Admission {
        switch (self.state, element) {
        case (.open, _), (.closed, .end), (.closed, .close):
            return .pass(element)
        case (.closed, .chunk(var chunk)):
            self.state = .awaitingAcknowledgement
            let size = max(1, segmentSize)
            guard chunk.bytes.readableBytes > size else { return .probe(chunk) }
            let first = chunk.bytes.readSlice(length: size)!
            self.hold(.chunk(chunk))
            return .probe(Chunk(bytes: first, timestamp: chunk.timestamp))
        case (.dialling, _), (.awaitingAcknowledgement, _):
            self.hold(element)
            return .hold
        }
    }

    /// The upstream connected: returns what was held while dialling, for the caller to offer again in order
    /// (its first chunk becomes the probe).
    mutating func connected() -> [StreamElement] {
        guard self.state == .dialling else { return [] }
        self.state = .closed
        return self.takeHeld()
    }

    /// The upstream has a socket: returns what was held, in order, and lets everything pass from now on.
    mutating func open() -> [StreamElement] {
        self.state = .open
        return self.takeHeld()
    }

    private mutating func takeHeld() -> [StreamElement] {
        defer {
            self.held = []
            self.heldBytes = 0
        }
        return self.held
    }

    private mutating func hold(_ element: StreamElement) {
        self.held.append(element)
        self.heldBytes += element.byteCount
    }
}
