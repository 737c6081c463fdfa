import NIOCore

/// What flows through one direction of a link: data read from the source socket, then how it ended.
///
/// An end travels through the toxic chain behind the data, so bytes queued ahead of it are delivered before
/// it acts on the destination.
enum StreamElement {
    case chunk(Chunk)
    /// The source sent its end of stream (FIN): the destination's write side is shut down once everything
    /// before it is written, and the other direction goes on (TCP half-close).
    case end
    /// The whole connection ends once everything before it is written: `limit_data`'s cut, or a source socket
    /// that failed or was reset.
    case close

    var byteCount: Int {
        switch self {
        case .chunk(let chunk): chunk.bytes.readableBytes
        case .end, .close: 0
        }
    }

    /// Whether this is one of the two ends, which stages pass on or hold behind the data but never drop
    /// without a reason of their own.
    var isEnd: Bool {
        if case .chunk = self { return false }
        return true
    }
}

/// One socket read, stamped with its arrival time; time-based toxics measure from that stamp.
struct Chunk {
    var bytes: ByteBuffer
    var timestamp: NIODeadline
}
