import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import ToxiproxyTestSupport

extension Reliability {
    /// Long-running streams through a proxy whose toxics change every 10 ms, next to a proxy that is disabled
    /// and re-enabled over and over: no byte is changed, lost or reordered, the admin API stays fast, and the
    /// server gives back its descriptors and memory afterwards.
    @Suite
    struct Soak {
        static let streams = 200
        /// One soak stream in `slowAcceptShare` goes to an upstream with backlog 4 that accepts one connection
        /// every 2 ms, so its dials complete late while the stream is already sending.
        static let slowAcceptShare = 8
        static let flapClients = 20
        /// Clients that connect again and again, send a request, half-close and read the whole echo until the
        /// end of stream: half of them through the chaos proxy, half to the slow-accepting upstream.
        static let halfCloseClients = 20
        /// Each stream writes chunks of 1...`chunkMax` random bytes with a random pause of 0...2 × `meanPause`
        /// between them: about 20 KiB/s a stream, 4 MiB/s in all, echoed back. A steady load rather than a
        /// saturating one: the clients, the echo server and the server share two cores, and the point here is
        /// the chaos around the data, not the throughput (the benchmark measures that).
        static let chunkMax = 4 * 1024
        static let meanPause = Duration.milliseconds(100)
        static let chaosTick = Duration.milliseconds(10)
        /// The issue's bound on the admin API under this load.
        static let adminP99Bound = 50.0

        @Test(.timeLimit(.minutes(20)))
        func streamsStayIntactWhileToxicsChangeAndAProxyFlaps() async throws {
            try await withEchoServer { echoPort in
                try await withEchoServer(backlog: 4, accepting: .oneEvery(.milliseconds(2))) { slowEchoPort, _ in
                    try await ServerUnderTest.with { server in
                        let ports = Ports(
                            soak: try await server.createProxy("soak", upstreamPort: echoPort),
                            flap: try await server.createProxy("flap", upstreamPort: echoPort),
                            slowAccept: try await server.createProxy("slow", upstreamPort: slowEchoPort)
                        )
                        let idleDescriptors = try server.openDescriptors()

                        // Warm-up: the same load for two seconds, so pools and buffers exist before the baseline.
                        let warmUp = try await Self.phase(server, ports, duration: .seconds(2), seed: 1)
                        #expect(
                            warmUp.problems.isEmpty,
                            "warm-up: \(warmUp.problems.prefix(10)); server: \(server.upstreamErrors())"
                        )
                        let (baselineDescriptors, baselineResident) = try await server.baselineAfterWarmUp(
                            idleDescriptors: idleDescriptors
                        )

                        let sampler = ResourceSampler(server)
                        let cpu = CPUWindow(server)
                        let soak = try await Self.phase(
                            server,
                            ports,
                            duration: ReliabilityProfile.soakDuration,
                            seed: 1_000
                        )
                        let peaks = await sampler.stop()
                        let cpuSummary = cpu.summary
                        try server.requireRunning("after the soak")

                        let after = try await server.waitForDescriptors(
                            atMost: baselineDescriptors,
                            timeout: .seconds(15)
                        )
                        let bound = Self.residentBound
                        let resident = try await server.waitForResident(
                            atMost: baselineResident + bound,
                            timeout: .seconds(10)
                        )
                        let p50 = soak.adminLatencies.isEmpty ? .infinity : percentile(soak.adminLatencies, 0.5)
                        let p99 = soak.adminLatencies.isEmpty ? .infinity : percentile(soak.adminLatencies, 0.99)
                        let byKind = soak.adminLatenciesByKind.sorted { $0.key < $1.key }.map { kind, latencies in
                            "\(kind) \(latencies.count) p50 \(format(percentile(latencies, 0.5))) p99 \(format(percentile(latencies, 0.99)))"
                        }.joined(separator: ", ")
                        report(
                            "soak",
                            "\(Self.streams) streams for \(ReliabilityProfile.soakDuration), "
                                + "\(mebibytes(soak.streamedBytes)) echoed and verified by SHA-256; flapping proxy: "
                                + "\(soak.flapConnections) connections, \(mebibytes(soak.flapSentBytes)) sent, "
                                + "\(mebibytes(soak.flapVerifiedBytes)) echoed before the cuts and verified byte for byte, \(soak.toggles) disable/enable calls; "
                                + "\(Self.streams / Self.slowAcceptShare) of the streams to the slow-accepting upstream; "
                                + "half-closing clients: \(soak.halfCloseExchanges) exchanges, \(mebibytes(soak.halfCloseBytes)) "
                                + "echoed whole before their end of stream; \(soak.chaosCalls) toxic changes "
                                + "(\(soak.chaosByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))); "
                                + "admin calls: \(soak.adminLatencies.count), p50 \(format(p50)), p99 \(format(p99)), "
                                + "max \(format(soak.adminLatencies.max() ?? 0)) (by kind: \(byKind)); "
                                + "descriptors \(baselineDescriptors) before, "
                                + "peak \(peaks.descriptors), \(after.count) after; RSS \(mebibytes(baselineResident)) "
                                + "before, peak \(mebibytes(peaks.residentBytes)) (over time \(peaks.timeline())), "
                                + "\(mebibytes(resident.bytes)) after "
                                + "(bound +\(mebibytes(bound))); \(cpuSummary)"
                        )

                        #expect(
                            soak.problems.isEmpty,
                            "\(soak.problems.count) problems: \(soak.problems.prefix(20)); server: \(server.upstreamErrors())"
                        )
                        // The chaos must really have happened for the rest to mean anything: at least one change in
                        // twenty ticks (how many of the ticks were met is the admin latency's business, below).
                        let ticks = Int(ReliabilityProfile.soakDuration.milliseconds / Self.chaosTick.milliseconds)
                        #expect(
                            soak.chaosCalls >= ticks / 20,
                            "only \(soak.chaosCalls) toxic changes for \(ticks) ticks of \(Self.chaosTick) (admin p50 \(format(p50)))"
                        )
                        #expect(
                            soak.flapConnections >= Self.flapClients * 2,
                            "\(soak.flapConnections) flap connections"
                        )
                        #expect(
                            soak.halfCloseExchanges >= Self.halfCloseClients * 2,
                            "\(soak.halfCloseExchanges) half-closed exchanges"
                        )
                        #expect(p99 < Self.adminP99Bound, "admin API p99 \(format(p99)) (p50 \(format(p50)))")
                        #expect(
                            after.reached,
                            "\(after.count) descriptors after the soak, \(baselineDescriptors) before: \(server.descriptorKinds())"
                        )
                        #expect(
                            resident.reached,
                            "RSS \(mebibytes(resident.bytes)) after the soak, \(mebibytes(baselineResident)) before"
                        )
                    }
                }
            }
        }

        /// How much the server's RSS may exceed its post-warm-up figure once the soak's connections are closed.
        ///
        /// Measured (release build): 2.3 MiB above the baseline after the CI form, 2.8 MiB after the long form
        /// (10 min, 2.3 GiB streamed), so it does not grow with time: allocator slack from the peak (buffers of
        /// 220 connections, chunks held by latency, bandwidth and slicer toxics). Every streamed byte crosses the proxy twice as
        /// chunks (to the echo server and back): a leak of one chunk in six breaks this bound in the CI form
        /// (about 150 MiB of chunks), of one in two hundred in the long form (about 4.5 GiB); a leaked
        /// connection shows in the descriptors first.
        static let residentBound = 24 * 1_048_576

        // MARK: One phase of load

        struct Ports: Sendable {
            /// Through the chaos toxics, to the echo server.
            var soak: Int
            /// Disabled and enabled over and over.
            var flap: Int
            /// No toxics, to the slow-accepting echo server.
            var slowAccept: Int
        }

        struct Outcome: Sendable {
            var streamedBytes = 0
            var halfCloseExchanges = 0
            var halfCloseBytes = 0
            var flapConnections = 0
            var flapVerifiedBytes = 0
            var flapSentBytes = 0
            var toggles = 0
            var chaosCalls = 0
            var chaosByKind: [String: Int] = [:]
            var adminLatencies: [Double] = []
            var adminLatenciesByKind: [String: [Double]] = [:]
            /// Anything that must not happen: a changed byte, a broken soak stream, a wrong status.
            var problems: [String] = []
        }

        /// Runs every part of the load for `duration`: the soak streams, the chaos loop on proxy `soak`, the
        /// flapping proxy and its clients.
        static func phase(
            _ server: ServerUnderTest,
            _ ports: Ports,
            duration: Duration,
            seed: UInt64
        ) async throws -> Outcome {
            let deadline = ContinuousClock.now + duration
            let adminPort = server.adminPort
            let flapPort = ports.flap
            async let streams = withTaskGroup(of: StreamOutcome.self, returning: [StreamOutcome].self) { group in
                for index in 0..<Self.streams {
                    let port = index % Self.slowAcceptShare == 0 ? ports.slowAccept : ports.soak
                    group.addTask {
                        await Self.soakStream(port: port, seed: seed &* 7919 &+ UInt64(index), until: deadline)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            async let halfClosed = withTaskGroup(of: HalfCloseOutcome.self, returning: HalfCloseOutcome.self) { group in
                for index in 0..<Self.halfCloseClients {
                    let port = index % 2 == 0 ? ports.soak : ports.slowAccept
                    group.addTask {
                        await Self.halfCloseClient(
                            port: port,
                            seed: (seed &+ 5) &* 65_537 &+ UInt64(index),
                            until: deadline
                        )
                    }
                }
                return await group.reduce(into: HalfCloseOutcome()) { $0.merge($1) }
            }
            async let flap = withTaskGroup(of: FlapOutcome.self, returning: FlapOutcome.self) { group in
                for index in 0..<Self.flapClients {
                    group.addTask {
                        await Self.flapClient(
                            port: flapPort,
                            seed: (seed &+ 77) &* 104_729 &+ UInt64(index),
                            until: deadline
                        )
                    }
                }
                return await group.reduce(into: FlapOutcome()) { $0.merge($1) }
            }
            async let chaos = onThread { Self.chaos(adminPort: adminPort, seed: seed, until: deadline) }
            async let toggles = onThread { Self.toggle(adminPort: adminPort, seed: seed, until: deadline) }

            var outcome = Outcome()
            for stream in await streams {
                outcome.streamedBytes += stream.sent
                if let problem = stream.problem { outcome.problems.append("soak stream \(stream.seed): \(problem)") }
            }
            let halfCloseOutcome = await halfClosed
            outcome.halfCloseExchanges = halfCloseOutcome.exchanges
            outcome.halfCloseBytes = halfCloseOutcome.bytes
            outcome.problems += halfCloseOutcome.problems
            let flapOutcome = await flap
            outcome.flapConnections = flapOutcome.connections
            outcome.flapVerifiedBytes = flapOutcome.verified
            outcome.flapSentBytes = flapOutcome.sent
            outcome.problems += flapOutcome.problems
            let chaosOutcome = await chaos
            outcome.chaosCalls = chaosOutcome.byKind.values.reduce(0, +)
            outcome.chaosByKind = chaosOutcome.byKind
            outcome.adminLatencies += chaosOutcome.latencies
            outcome.adminLatenciesByKind = chaosOutcome.latenciesByKind
            outcome.problems += chaosOutcome.problems
            let toggleOutcome = await toggles
            outcome.toggles = toggleOutcome.latencies.count
            outcome.adminLatencies += toggleOutcome.latencies
            outcome.adminLatenciesByKind.merge(toggleOutcome.latenciesByKind, uniquingKeysWith: +)
            outcome.problems += toggleOutcome.problems
            return outcome
        }

        // MARK: Soak streams

        struct StreamOutcome: Sendable {
            var seed: UInt64
            var sent = 0
            var problem: String?
        }

        private struct ReadProgress {
            var received = 0
            var ended = false
        }

        /// Streams seeded random bytes until `deadline`, reading the echo at the same time; then waits for the
        /// rest of the echo and compares the SHA-256 of both directions.
        static func soakStream(port: Int, seed: UInt64, until deadline: ContinuousClock.Instant) async -> StreamOutcome
        {
            var outcome = StreamOutcome(seed: seed)
            do {
                let connection = try await TCPTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, outbound in
                    let progress = NIOLockedValueBox(ReadProgress())
                    try await withThrowingTaskGroup(of: (String, String?).self) { group in
                        group.addTask {
                            var hash = SHA256()
                            var failure: String?
                            do {
                                for try await buffer in inbound {
                                    buffer.withUnsafeReadableBytes { hash.update($0) }
                                    progress.withLockedValue { $0.received += buffer.readableBytes }
                                }
                                failure = "the proxy closed the connection"
                            } catch is CancellationError {
                            } catch {
                                failure = "read failed: \(error)"
                            }
                            progress.withLockedValue { $0.ended = true }
                            return (hash.finalize(), failure)
                        }
                        var data = SplitMix64(seed: seed)
                        var shape = SplitMix64(seed: ~seed)
                        var hash = SHA256()
                        var writeFailure: String?
                        while ContinuousClock.now < deadline, !progress.withLockedValue({ $0.ended }) {
                            let bytes = data.bytes(1 + Int(shape.next() % UInt64(Self.chunkMax)))
                            hash.update(bytes)
                            do {
                                try await outbound.write(ByteBuffer(bytes: bytes))
                            } catch {
                                writeFailure = "write failed: \(error)"
                                break
                            }
                            outcome.sent += bytes.count
                            let pause = Self.meanPause.milliseconds * 2 * Double(shape.next() % 1000) / 1000
                            try await Task.sleep(for: .milliseconds(pause))
                        }
                        let sent = outcome.sent
                        let drained = await eventually(timeout: .seconds(30)) {
                            progress.withLockedValue { $0.received >= sent || $0.ended }
                        }
                        group.cancelAll()
                        let (receivedDigest, readFailure) = try await group.next()!
                        let received = progress.withLockedValue { $0.received }
                        if let writeFailure {
                            outcome.problem = writeFailure
                        } else if received != sent {
                            outcome.problem =
                                "\(received) bytes echoed of \(sent) sent"
                                + (drained ? "" : " within 30 s") + (readFailure.map { " (\($0))" } ?? "")
                        } else if receivedDigest != hash.finalize() {
                            outcome.problem = "the \(sent) echoed bytes differ from those sent (SHA-256)"
                        }
                    }
                }
            } catch {
                outcome.problem = outcome.problem ?? "\(error)"
            }
            return outcome
        }

        // MARK: Half-closing clients

        struct HalfCloseOutcome: Sendable {
            var exchanges = 0
            var bytes = 0
            var problems: [String] = []

            mutating func merge(_ other: HalfCloseOutcome) {
                self.exchanges += other.exchanges
                self.bytes += other.bytes
                self.problems += other.problems
            }
        }

        /// Until `deadline`: connects, sends 1 byte to 64 KiB, shuts down its write side and reads until the end
        /// of stream; the echo must be whole, and must end, within 30 s.
        static func halfCloseClient(
            port: Int,
            seed: UInt64,
            until deadline: ContinuousClock.Instant
        ) async
            -> HalfCloseOutcome
        {
            var outcome = HalfCloseOutcome()
            var shape = SplitMix64(seed: seed)
            while ContinuousClock.now < deadline {
                let size = 1 + Int(shape.next() % (64 * 1024))
                let exchangeSeed = shape.next()
                let result = await withTaskGroup(of: Result<EchoExchange, any Error>?.self) { group in
                    group.addTask {
                        do {
                            return .success(
                                try await EchoExchange.run(
                                    port: port,
                                    byteCount: size,
                                    seed: exchangeSeed,
                                    halfClose: true
                                )
                            )
                        } catch {
                            return .failure(error)
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(30))
                        return nil
                    }
                    let first = await group.next()!
                    group.cancelAll()
                    return first
                }
                switch result {
                case .success(let exchange) where exchange.isIntact:
                    outcome.exchanges += 1
                    outcome.bytes += exchange.receivedCount
                case .success(let exchange):
                    outcome.problems.append("half-closed exchange \(exchangeSeed): \(exchange.summary)")
                case .failure(let error):
                    outcome.problems.append("half-closed exchange \(exchangeSeed): \(error)")
                case nil:
                    outcome.problems.append("half-closed exchange \(exchangeSeed): no end of stream within 30 s")
                }
            }
            return outcome
        }

        // MARK: The flapping proxy's clients

        struct FlapOutcome: Sendable {
            var connections = 0
            var sent = 0
            var verified = 0
            var problems: [String] = []

            mutating func merge(_ other: FlapOutcome) {
                self.connections += other.connections
                self.sent += other.sent
                self.verified += other.verified
                self.problems += other.problems
            }
        }

        /// Connects again and again until `deadline` (refused while the proxy is disabled); on each connection
        /// streams seeded words and checks that what comes back is exactly a prefix of what was sent, however
        /// the connection ends.
        static func flapClient(port: Int, seed: UInt64, until deadline: ContinuousClock.Instant) async -> FlapOutcome {
            var outcome = FlapOutcome()
            var shape = SplitMix64(seed: seed)
            while ContinuousClock.now < deadline {
                let connection: TCPTestClient.Connection
                do {
                    connection = try await TCPTestClient.connect(port: port)
                } catch {
                    // Refused while the proxy is disabled.
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                let streamSeed = shape.next()
                outcome.connections += 1
                do {
                    let (sent, verified, mismatch) = try await connection.executeThenClose { inbound, outbound in
                        try await Self.flapConnection(inbound, outbound, seed: streamSeed, until: deadline)
                    }
                    outcome.sent += sent
                    outcome.verified += verified
                    if let mismatch {
                        outcome.problems.append(
                            "flap stream \(streamSeed): byte \(mismatch) differs from what was sent"
                        )
                    }
                } catch {
                    outcome.problems.append("flap stream \(streamSeed): \(error)")
                }
            }
            return outcome
        }

        /// One connection of a flap client: returns the bytes sent, the bytes verified and the offset of the
        /// first wrong byte.
        private static func flapConnection(
            _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
            _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
            seed: UInt64,
            until deadline: ContinuousClock.Instant
        ) async throws -> (sent: Int, verified: Int, mismatch: Int?) {
            let progress = NIOLockedValueBox(ReadProgress())
            return try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                group.addTask {
                    var verifier = WordVerifier(seed: seed)
                    do {
                        for try await buffer in inbound {
                            guard verifier.consume(buffer) else { break }
                            progress.withLockedValue { $0.received = verifier.received }
                        }
                    } catch {
                        // Disabling the proxy closes its connections: an ending is expected, a wrong byte is not.
                    }
                    _ = verifier.finish()
                    progress.withLockedValue { $0.ended = true }
                    return (verifier.verified, verifier.mismatchOffset)
                }
                var stream = WordStream(seed: seed)
                var shape = SplitMix64(seed: ~seed)
                while ContinuousClock.now < deadline, !progress.withLockedValue({ $0.ended }) {
                    do {
                        try await outbound.write(ByteBuffer(bytes: stream.next(words: 1 + Int(shape.next() % 512))))
                    } catch {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(Double(shape.next() % 40)))
                }
                let sent = stream.produced
                _ = await eventually(timeout: .seconds(10)) {
                    progress.withLockedValue { $0.received >= sent || $0.ended }
                }
                group.cancelAll()
                let (verified, mismatch) = try await group.next()!
                return (sent, verified, mismatch)
            }
        }

        // MARK: Admin loops

        struct AdminOutcome: Sendable {
            var latencies: [Double] = []
            var byKind: [String: Int] = [:]
            /// Latencies by kind of call (`get`, `add`, `update`, `remove`, `toggle`).
            var latenciesByKind: [String: [Double]] = [:]
            var problems: [String] = []
        }

        /// Every toxic type of the server that passes every byte on, in order: the others (`timeout`,
        /// `reset_peer`, `limit_data`) drop data by design.
        static let dataPreservingToxics = ["latency", "bandwidth", "slicer", "slow_close", "noop"]

        /// Attributes that keep the streams moving: `bandwidth` well above a stream's 20 KiB/s, `slicer` in
        /// pieces of hundreds of bytes (not CPU spent on 1-byte slices).
        static func randomAttributes(of type: String, _ random: inout SplitMix64) -> String {
            switch type {
            case "latency":
                return #"{"latency":\#(random.next() % 31),"jitter":\#(random.next() % 11)}"#
            case "bandwidth":
                return #"{"rate":\#(64 + random.next() % 961)}"#
            case "slicer":
                let average = 256 + random.next() % 1793
                return
                    #"{"average_size":\#(average),"size_variation":\#(random.next() % (average / 2)),"delay":\#(random.next() % 51)}"#
            case "slow_close":
                return #"{"delay":\#(random.next() % 101)}"#
            default:
                return "{}"
            }
        }

        private struct ToxicSlot {
            var name: String
            var type: String
            var stream: String
            var present = false
        }

        /// Every `chaosTick` (drift-free, skipping ticks it is late for), adds, updates or removes one of the
        /// data-preserving toxics (`dataPreservingToxics`, either direction) of proxy `soak`, with random
        /// attributes and toxicity. Runs on a thread of its own with blocking sockets, so that each call's time is the
        /// server's, not this process's scheduling of its 220 streams.
        static func chaos(adminPort: Int, seed: UInt64, until deadline: ContinuousClock.Instant) -> AdminOutcome {
            var outcome = AdminOutcome()
            var random = SplitMix64(seed: seed ^ 0xC4A0_5C4A_05)
            var slots: [ToxicSlot] = []
            for type in Self.dataPreservingToxics {
                slots.append(ToxicSlot(name: "\(type)_up", type: type, stream: "upstream"))
                slots.append(ToxicSlot(name: "\(type)_down", type: type, stream: "downstream"))
            }
            var next = ContinuousClock.now
            var tick = 0
            while ContinuousClock.now < deadline {
                tick += 1
                if tick % 10 == 0 {
                    // A read now and then, to tell slow reads from slow changes.
                    do {
                        let reply = try RawHTTP.blockingCall(port: adminPort, "GET", "/proxies/soak")
                        outcome.latencies.append(reply.elapsed.milliseconds)
                        outcome.latenciesByKind["get", default: []].append(reply.elapsed.milliseconds)
                        if reply.status != 200 { outcome.problems.append("GET /proxies/soak: \(reply)") }
                    } catch {
                        outcome.problems.append("GET /proxies/soak: \(error)")
                    }
                }
                let index = Int(random.next() % UInt64(slots.count))
                let slot = slots[index]
                let toxicity = ["1", "1", "0.5", "0"][Int(random.next() % 4)]
                let attributes = Self.randomAttributes(of: slot.type, &random)
                let kind: String
                let method: String
                let path: String
                var body: String?
                let expected: Int
                if !slot.present {
                    (kind, method, path, expected) = ("add", "POST", "/proxies/soak/toxics", 200)
                    body =
                        #"{"name":"\#(slot.name)","type":"\#(slot.type)","stream":"\#(slot.stream)","#
                        + #""toxicity":\#(toxicity),"attributes":\#(attributes)}"#
                } else if random.next() % 2 == 0 {
                    (kind, method, path, expected) = ("update", "PATCH", "/proxies/soak/toxics/\(slot.name)", 200)
                    body = #"{"toxicity":\#(toxicity),"attributes":\#(attributes)}"#
                } else {
                    (kind, method, path, expected) = ("remove", "DELETE", "/proxies/soak/toxics/\(slot.name)", 204)
                }
                do {
                    let reply = try RawHTTP.blockingCall(port: adminPort, method, path, body: body)
                    outcome.latencies.append(reply.elapsed.milliseconds)
                    outcome.latenciesByKind[kind, default: []].append(reply.elapsed.milliseconds)
                    outcome.byKind["\(kind) \(slot.type)", default: 0] += 1
                    if reply.status == expected {
                        if kind == "add" { slots[index].present = true }
                        if kind == "remove" { slots[index].present = false }
                    } else {
                        outcome.problems.append("\(method) \(path): expected \(expected), got \(reply)")
                    }
                } catch {
                    outcome.problems.append("\(method) \(path): \(error)")
                    // A dead server would make every further call fail the same way.
                    if outcome.problems.count > 50 { break }
                }
                next += Self.chaosTick
                if next < ContinuousClock.now { next = .now }
                sleepThread(until: next)
            }
            // The next phase starts from no toxics.
            for slot in slots where slot.present {
                let path = "/proxies/soak/toxics/\(slot.name)"
                do {
                    let reply = try RawHTTP.blockingCall(port: adminPort, "DELETE", path)
                    if reply.status != 204 { outcome.problems.append("DELETE \(path): expected 204, got \(reply)") }
                } catch {
                    outcome.problems.append("DELETE \(path): \(error)")
                }
            }
            return outcome
        }

        /// Disables proxy `flap` for 50...150 ms, then enables it for 150...400 ms, until `deadline`; leaves it
        /// enabled. On a thread of its own, as `chaos`.
        static func toggle(adminPort: Int, seed: UInt64, until deadline: ContinuousClock.Instant) -> AdminOutcome {
            var outcome = AdminOutcome()
            var random = SplitMix64(seed: seed ^ 0x70_6613)
            var enabled = true
            while true {
                let pause = enabled ? 150 + random.next() % 251 : 50 + random.next() % 101
                let wake = ContinuousClock.now + .milliseconds(Int(pause))
                if enabled && wake >= deadline { break }
                sleepThread(until: min(wake, deadline))
                do {
                    let reply = try RawHTTP.blockingCall(
                        port: adminPort,
                        "POST",
                        "/proxies/flap",
                        body: #"{"enabled":\#(!enabled)}"#
                    )
                    outcome.latencies.append(reply.elapsed.milliseconds)
                    outcome.latenciesByKind["toggle", default: []].append(reply.elapsed.milliseconds)
                    if reply.status == 200 {
                        enabled.toggle()
                    } else {
                        outcome.problems.append("POST /proxies/flap enabled=\(!enabled): expected 200, got \(reply)")
                    }
                } catch {
                    outcome.problems.append("POST /proxies/flap enabled=\(!enabled): \(error)")
                    if outcome.problems.count > 50 { break }
                }
            }
            return outcome
        }
    }
}
