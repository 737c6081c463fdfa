import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing
import ToxiproxyTestSupport

extension Reliability {
    /// Thousands of generated bad requests against the admin API: each gets the spec's status, the server
    /// never goes down, its memory stays bounded, slow partial requests are cut off at the read timeout, and
    /// nothing the bad requests touched has changed.
    @Suite
    struct AdminAbuse {
        static let workers = 16
        /// The binary's request read timeout (ToxiproxyServer.Configuration.requestReadTimeout).
        static let readTimeout = Duration.seconds(15)
        /// What a busy machine may add to it.
        static let readTimeoutSlack = Duration.seconds(5)
        /// How far the server's RSS may rise over its post-warm-up figure while the flood runs: up to
        /// `workers` bodies of 1 MiB are buffered at once (the limit), plus their copies while parsed; a
        /// leak of even 1% of the ~250 MiB of oversized bodies sent would exceed the settled bound.
        static let peakResidentBound = 96 * 1_048_576
        /// How far above the baseline it must settle once the flood is over.
        static let settledResidentBound = 32 * 1_048_576
        /// How much the RSS may grow over the second half of the flood (about 5,000 requests, none oversized):
        /// a leak of 1 KiB a request would add 5 MiB.
        static let secondHalfGrowthBound = 4 * 1_048_576

        @Test(.timeLimit(.minutes(10)))
        func badRequestsGetTheSpecsStatusAndTheServerStaysUp() async throws {
            try await ServerUnderTest.with { server in
                let port = server.adminPort
                let created = try await RawHTTP.call(
                    port: port,
                    "POST",
                    "/proxies",
                    body: #"{"name":"target","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","enabled":false}"#
                )
                try #require(created.status == 201, "\(created)")
                let toxic = try await RawHTTP.call(
                    port: port,
                    "POST",
                    "/proxies/target/toxics",
                    body: #"{"name":"fixture","type":"latency","toxicity":0.75,"attributes":{"latency":10,"jitter":3}}"#
                )
                try #require(toxic.status == 200, "\(toxic)")
                let fixture = try await RawHTTP.call(port: port, "GET", "/proxies/target").text
                let idleDescriptors = try server.openDescriptors()

                var generator = AbuseGenerator(seed: 0xAB05E)
                // The warm-up leaves out oversized bodies framed by Content-Length: the server holds each of
                // those connections until the read timeout (see `AbuseCase.lingersAfterAnswer`), which would only delay
                // the baseline.
                let warmUpCases = generator.cases(requests: 500).filter { !$0.lingersAfterAnswer }
                let warmUp = await Self.flood(warmUpCases, port: port)
                #expect(warmUp.mismatches.isEmpty, "warm-up: \(warmUp.mismatches.prefix(10))")
                let (baselineDescriptors, baselineResident) = try await server.baselineAfterWarmUp(
                    idleDescriptors: idleDescriptors
                )

                let slowKinds = SlowRequest.allCases
                // Oversized bodies first: all workers send them at once (the worst case for memory), and the
                // connections the server holds after them expire while the rest of the flood runs.
                let generated = generator.cases(requests: ReliabilityProfile.abuseRequests - slowKinds.count)
                let cases = generated.filter(\.isOversized) + generated.filter { !$0.isOversized }
                let sampler = ResourceSampler(server, every: .milliseconds(100))
                let start = ContinuousClock.now
                async let slow = withTaskGroup(of: (SlowRequest, Result<Duration?, any Error>).self) { group in
                    for kind in slowKinds {
                        group.addTask {
                            do {
                                return (kind, .success(try await kind.run(port: port, giveUpAfter: .seconds(30))))
                            } catch {
                                return (kind, .failure(error))
                            }
                        }
                    }
                    return await group.reduce(into: [(SlowRequest, Result<Duration?, any Error>)]()) { $0.append($1) }
                }
                let cpu = CPUWindow(server)
                let flood = await Self.flood(cases, port: port, server: server)
                let residentAtEnd = try server.residentBytes()
                let cpuSummary = cpu.summary
                let floodTime = ContinuousClock.now - start
                let slowOutcomes = await slow
                let peaks = await sampler.stop()
                try server.requireRunning("after \(flood.requests) bad requests")

                // Every connection is closed by now or soon: a 413 closes its connection once written (the rest
                // of that body is never read), the slow requests were cut at the read timeout above.
                let after = try await server.waitForDescriptors(atMost: baselineDescriptors, timeout: .seconds(5))
                let resident = try await server.waitForResident(
                    atMost: baselineResident + Self.settledResidentBound,
                    timeout: .seconds(10)
                )
                let fixtureAfter = try await RawHTTP.call(port: port, "GET", "/proxies/target").text
                let listing = try await RawHTTP.call(port: port, "GET", "/proxies")
                let version = try await RawHTTP.call(port: port, "GET", "/version")

                let halfway = flood.residentHalfway ?? 0
                let statuses = flood.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                let categories = flood.categories.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }
                let slowText = slowOutcomes.map { kind, result in
                    switch result {
                    case .success(let closed?): "\(kind) closed after \(format(closed.milliseconds))"
                    case .success(nil): "\(kind) NOT closed within 30 s"
                    case .failure(let error): "\(kind) failed: \(error)"
                    }
                }
                report(
                    "abuse",
                    "\(flood.requests + slowKinds.count) requests (\(flood.requests) in \(format(floodTime.milliseconds)) "
                        + "on \(Self.workers) connections at a time, \(slowKinds.count) slow); statuses \(statuses); "
                        + "categories: \(categories.joined(separator: ", ")); slow: \(slowText.joined(separator: "; ")); "
                        + "descriptors \(baselineDescriptors) before, peak \(peaks.descriptors), \(after.count) after; "
                        + "RSS \(mebibytes(baselineResident)) before, \(mebibytes(halfway)) halfway, "
                        + "\(mebibytes(residentAtEnd)) at the end, peak \(mebibytes(peaks.residentBytes)), "
                        + "\(mebibytes(resident.bytes)) after; \(cpuSummary)"
                )

                #expect(
                    flood.mismatches.isEmpty,
                    "\(flood.mismatches.count) answers differ from the spec: \(flood.mismatches.prefix(25))"
                )
                for (kind, result) in slowOutcomes {
                    switch result {
                    case .success(let closed?):
                        #expect(
                            closed <= Self.readTimeout + Self.readTimeoutSlack,
                            "\(kind): closed after \(closed), the read timeout is \(Self.readTimeout)"
                        )
                    case .success(nil):
                        Issue.record("\(kind): the server did not close it within 30 s")
                    case .failure(let error):
                        Issue.record("\(kind): \(error)")
                    }
                }
                #expect(fixtureAfter == fixture, "bad requests changed the fixture: \(fixture) → \(fixtureAfter)")
                #expect(listing.status == 200 && listing.text.hasPrefix(#"{"target":"#), "\(listing)")
                #expect(listing.text == "{\"target\":\(fixture)}", "proxies left behind: \(listing.text.prefix(500))")
                #expect(version.status == 200)
                #expect(
                    peaks.residentBytes <= baselineResident + Self.peakResidentBound,
                    "RSS peaked at \(mebibytes(peaks.residentBytes)), \(mebibytes(baselineResident)) before"
                )
                #expect(
                    resident.reached,
                    "RSS \(mebibytes(resident.bytes)) after the flood, \(mebibytes(baselineResident)) before"
                )
                // No growth with the number of requests: the oversized bodies all come in the first half, so
                // the second half must not raise the RSS by more than allocator noise.
                #expect(
                    residentAtEnd <= halfway + Self.secondHalfGrowthBound,
                    "RSS grew from \(mebibytes(halfway)) to \(mebibytes(residentAtEnd)) over the second half"
                )
                #expect(
                    after.reached,
                    "\(after.count) descriptors after the flood, \(baselineDescriptors) before: \(server.descriptorKinds())"
                )
            }
        }

        struct FloodOutcome: Sendable {
            var requests = 0
            var statuses: [String: Int] = [:]
            var categories: [String: Int] = [:]
            var mismatches: [String] = []
            /// The server's RSS when half of the requests had been sent.
            var residentHalfway: Int?

            mutating func merge(_ other: FloodOutcome) {
                self.requests += other.requests
                self.statuses.merge(other.statuses, uniquingKeysWith: +)
                self.categories.merge(other.categories, uniquingKeysWith: +)
                self.mismatches += other.mismatches
            }
        }

        /// Sends every case's requests from `workers` threads with blocking sockets (a case's steps in order
        /// on one thread), one connection per request, and checks each answer.
        static func flood(_ cases: [AbuseCase], port: Int, server: ServerUnderTest? = nil) async -> FloodOutcome {
            let total = cases.reduce(0) { $0 + $1.steps.count }
            let progress = NIOLockedValueBox(0)
            let halfway = NIOLockedValueBox<Int?>(nil)
            var outcome = await withTaskGroup(of: FloodOutcome.self, returning: FloodOutcome.self) { group in
                for worker in 0..<Self.workers {
                    group.addTask {
                        await onThread {
                            var outcome = FloodOutcome()
                            for index in stride(from: worker, to: cases.count, by: Self.workers) {
                                let abuseCase = cases[index]
                                outcome.categories[abuseCase.category.prefix { $0 != ":" }.description, default: 0] += 1
                                for step in abuseCase.steps {
                                    outcome.requests += 1
                                    let done = progress.withLockedValue {
                                        $0 += 1
                                        return $0
                                    }
                                    if done == total / 2, let server {
                                        halfway.withLockedValue { $0 = try? server.residentBytes() }
                                    }
                                    let label = "[\(abuseCase.category)] \(step.method) \(step.target.prefix(120))"
                                    let start = ContinuousClock.now
                                    do {
                                        let raw = try BlockingSocket.exchange(
                                            port: port,
                                            step.bytes,
                                            timeout: .seconds(30)
                                        )
                                        let reply = RawHTTP.parse(raw, elapsed: ContinuousClock.now - start)
                                        outcome.statuses[reply.status.map(String.init) ?? "none", default: 0] += 1
                                        if let problem = step.expect.mismatch(reply, method: step.method) {
                                            outcome.mismatches.append("\(label): \(problem)")
                                        }
                                    } catch {
                                        outcome.statuses["error", default: 0] += 1
                                        outcome.mismatches.append("\(label): \(error)")
                                    }
                                }
                            }
                            return outcome
                        }
                    }
                }
                return await group.reduce(into: FloodOutcome()) { $0.merge($1) }
            }
            outcome.residentHalfway = halfway.withLockedValue { $0 }
            return outcome
        }
    }

    /// Requests that never finish arriving; the server must close them at its read timeout.
    enum SlowRequest: String, CaseIterable, Sendable, CustomStringConvertible {
        case silent = "a connection that sends nothing"
        case partialRequestLine = "half a request line, then silence"
        case trickledHead = "a head trickled one byte every 500 ms"
        case trickledBody = "a body trickled one byte every 500 ms"
        case shortBody = "a body shorter than its Content-Length, then silence"
        case trickledChunks = "a chunked body trickled one chunk every 500 ms"

        var description: String { self.rawValue }

        private var opening: String {
            let head = "Host: 127.0.0.1\r\nUser-Agent: \(RawHTTP.userAgent)\r\n"
            switch self {
            case .silent: return ""
            case .partialRequestLine: return "GET /vers"
            case .trickledHead: return "GET /version HTTP/1.1\r\n\(head)X-Slow: "
            case .trickledBody: return "POST /proxies HTTP/1.1\r\n\(head)Content-Length: 1000\r\n\r\n{"
            case .shortBody: return "POST /proxies HTTP/1.1\r\n\(head)Content-Length: 5000000\r\n\r\n{\"name\":"
            case .trickledChunks: return "POST /proxies HTTP/1.1\r\n\(head)Transfer-Encoding: chunked\r\n\r\n"
            }
        }

        private var trickle: String? {
            switch self {
            case .trickledHead: return "a"
            case .trickledBody: return " "
            case .trickledChunks: return "1\r\n \r\n"
            case .silent, .partialRequestLine, .shortBody: return nil
            }
        }

        /// How long after connecting the server closed the connection; nil if it had not after `giveUpAfter`.
        func run(port: Int, giveUpAfter limit: Duration) async throws -> Duration? {
            let connection = try await TCPTestClient.connect(port: port)
            let start = ContinuousClock.now
            return try await connection.executeThenClose { inbound, outbound in
                let watcher = ConnectionWatcher(inbound)
                if !self.opening.isEmpty {
                    try? await outbound.write(ByteBuffer(string: self.opening))
                }
                if let trickle = self.trickle {
                    while watcher.closedAt == nil, ContinuousClock.now - start < limit {
                        try await Task.sleep(for: .milliseconds(500))
                        do { try await outbound.write(ByteBuffer(string: trickle)) } catch { break }
                    }
                }
                let closed = await watcher.waitForClose(timeout: max(.zero, limit - (ContinuousClock.now - start)))
                await watcher.stop()
                return closed.map { $0 - start }
            }
        }
    }
}
