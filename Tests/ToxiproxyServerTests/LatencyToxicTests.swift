import NIOCore
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

/// Latency timing on real sockets. Tolerances allow for a loaded 2-core machine; accuracy targets live in
/// the benchmark, not here.
@Suite(.serialized)
struct LatencyToxicTests {
    @Test(.timeLimit(.minutes(1)))
    func hundredMillisecondsAddedToEveryMessage() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "lat", upstreamPort: echoPort)
                // The added delay is the round trip minus what the same path costs without the toxic.
                let baseline = try await RoundTrips.measure(port: port, count: 20, interval: .milliseconds(5))
                let unimpaired = percentile(baseline, 0.5)
                try await server.addToxic(proxy: "lat", #"{"type":"latency","attributes":{"latency":100}}"#)
                let samples = try await RoundTrips.measure(port: port, count: 100, interval: .milliseconds(20))
                let added = samples.map { $0 - unimpaired }
                #expect(samples.min()! >= 100, "a message arrived early: \(samples.min()!) ms")
                #expect(percentile(added, 0.99) <= 110, "p99 added \(percentile(added, 0.99)) ms over \(unimpaired) ms")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func jitterStaysWithinItsBounds() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "jit", upstreamPort: echoPort)
                try await server.addToxic(
                    proxy: "jit",
                    #"{"type":"latency","stream":"upstream","attributes":{"latency":60,"jitter":20}}"#
                )
                let samples = try await RoundTrips.measure(port: port, count: 60, interval: .milliseconds(30))
                // Delay is latency + J with J in [-20, 19]; order is kept, so a message can only wait longer
                // behind a slower predecessor, never arrive before 40 ms.
                #expect(samples.min()! >= 40, "min \(samples.min()!) ms")
                #expect(percentile(samples, 0.95) <= 90, "p95 \(percentile(samples, 0.95)) ms")
                #expect(samples.max()! - samples.min()! >= 10, "jitter had no visible effect: \(samples)")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func stackedLatencyToxicsAddUp() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "stack", upstreamPort: echoPort)
                try await server.addToxic(proxy: "stack", #"{"name":"a","type":"latency","attributes":{"latency":80}}"#)
                try await server.addToxic(proxy: "stack", #"{"name":"b","type":"latency","attributes":{"latency":70}}"#)
                let samples = try await RoundTrips.measure(port: port, count: 10, interval: .milliseconds(20))
                #expect(samples.min()! >= 150, "min \(samples.min()!) ms")
                #expect(samples.max()! <= 200, "max \(samples.max()!) ms")
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func addingAToxicAffectsALiveConnectionAtOnce() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "live", upstreamPort: echoPort)
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    var iterator = inbound.makeAsyncIterator()
                    let before = try await Self.roundTrip(&iterator, outbound)
                    try await server.addToxic(proxy: "live", #"{"type":"latency","attributes":{"latency":150}}"#)
                    let during = try await Self.roundTrip(&iterator, outbound)
                    try await server.removeToxic(proxy: "live", "latency_downstream")
                    let after = try await Self.roundTrip(&iterator, outbound)
                    #expect(before < 100, "before \(before) ms")
                    #expect(during >= 150 && during < 400, "during \(during) ms")
                    #expect(after < 100, "after \(after) ms")
                }
            }
        }
    }

    /// Removing a latency toxic delivers what it holds at once, in order, instead of after the delay.
    @Test(.timeLimit(.minutes(1)))
    func removingALatencyToxicFlushesWhatItHolds() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "flush", upstreamPort: echoPort)
                try await server.addToxic(proxy: "flush", #"{"type":"latency","attributes":{"latency":20000}}"#)
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "held"))
                    // The echo must be held by the toxic when it is removed, or this would test nothing.
                    #expect(try await eventually { try await server.registry.heldByteCount(ofProxy: "flush") == 4 })
                    let start = ContinuousClock.now
                    try await server.removeToxic(proxy: "flush", "latency_downstream")
                    var iterator = inbound.makeAsyncIterator()
                    let echoed = try await iterator.next()
                    #expect(echoed.map { String(buffer: $0) } == "held")
                    #expect(milliseconds(since: start) < 2000)
                }
            }
        }
    }

    private static func roundTrip(
        _ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
        _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws -> Double {
        let start = ContinuousClock.now
        try await outbound.write(ByteBuffer(string: "ping"))
        var received = 0
        while received < 4, let buffer = try await iterator.next() {
            received += buffer.readableBytes
        }
        return milliseconds(since: start)
    }
}
