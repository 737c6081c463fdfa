import NIOCore

/// What flows through one direction of a link: data read from the source socket, then its end.
///
/// The end travels through the toxic chain behind the data, so bytes queued ahead of a close are
/// delivered before the destination is closed (the reference's behaviour).
enum StreamElement {
    case chunk(Chunk)
    case end

    var byteCount: Int {
        switch self {
        case .chunk(let chunk): chunk.bytes.readableBytes
        case .end: 0
        }
    }
}

/// One socket read, stamped with its arrival time; time-based toxics measure from that stamp.
struct Chunk {
    var bytes: ByteBuffer
    var timestamp: NIODeadline
}
