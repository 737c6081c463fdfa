import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel's TCP_INFO tells of a connected socket, read on the channel's event loop (where NIO
/// answers a socket option at once).
enum TCPInfo {
    /// The socket's current maximum segment size for sending.
    static func sendSegmentSize(of channel: any Channel) -> Int? {
        #if os(Linux)
        self.read(channel).map { Int($0.tcpi_snd_mss) }
        #else
        nil
        #endif
    }

    /// Segments sent and not yet acknowledged by the peer; 0 where the platform does not say.
    static func unacknowledgedSegments(of channel: any Channel) -> Int {
        #if os(Linux)
        self.read(channel).map { Int($0.tcpi_unacked) } ?? 0
        #else
        0
        #endif
    }

    #if os(Linux)
    private static func read(_ channel: any Channel) -> tcp_info? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        var info: tcp_info?
        provider.getTCPInfo().assumeIsolated().whenSuccess { info = $0 }
        return info
    }
    #endif
}
