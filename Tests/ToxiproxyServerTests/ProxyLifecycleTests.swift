import NIOCore
import NIOPosix
import Testing
import ToxiproxyServer
import ToxiproxyTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Enabling, disabling and upstream failures, seen from real client sockets.
@Suite(.serialized)
struct ProxyLifecycleTests {
    @Test(.timeLimit(.minutes(1)))
    func disableRefusesNewConnectionsClosesLiveOnesAndEnableRebindsTheSamePort() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "door", upstreamPort: echoPort)
                let live = try await TCPTestClient.connect(port: port)
                try await live.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(string: "hi"))
                    #expect(await watcher.waitForBytes(2))

                    try await server.setEnabled(proxy: "door", false)
                    #expect(await watcher.waitForClose() != nil, "disabling must close live connections")
                    await watcher.stop()
                }
                let refused = await Self.connectError(port: port)
                #expect(refused == ECONNREFUSED, "got errno \(String(describing: refused))")

                try await server.setEnabled(proxy: "door", true)
                let proxy = try await server.admin.get("/proxies/door").jsonObject()
                #expect(proxy["listen"] as? String == "127.0.0.1:\(port)")
                let (sent, received) = try await DataIntegrityTests.echo(port: port, byteCount: 4096, seed: 7)
                #expect(sent == received)
            }
        }
    }

    /// The reference closes the client right after accept when the upstream cannot be dialled; other
    /// clients of the same proxy keep being served.
    @Test(.timeLimit(.minutes(1)))
    func unreachableUpstreamClosesTheClientWithoutBlockingOthers() async throws {
        let closedPort = try await Loopback.freePort()
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let deadPort = try await server.createProxy(name: "dead", upstreamPort: closedPort)
                let livePort = try await server.createProxy(name: "alive", upstreamPort: echoPort)
                for _ in 0..<20 {
                    let connection = try await TCPTestClient.connect(port: deadPort)
                    try await connection.executeThenClose { inbound, _ in
                        let watcher = ConnectionWatcher(inbound)
                        #expect(await watcher.waitForClose() != nil)
                        #expect(watcher.received.isEmpty)
                        await watcher.stop()
                    }
                }
                let (sent, received) = try await DataIntegrityTests.echo(port: livePort, byteCount: 4096, seed: 3)
                #expect(sent == received)
                #expect(try await eventually { try await server.registry.liveConnectionCount(ofProxy: "dead") == 0 })
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func deletingAProxyClosesItsConnectionsAndFreesThePort() async throws {
        try await withEchoServer { echoPort in
            try await withTestServer { server in
                let port = try await server.createProxy(name: "gone", upstreamPort: echoPort)
                let live = try await TCPTestClient.connect(port: port)
                try await live.executeThenClose { inbound, outbound in
                    let watcher = ConnectionWatcher(inbound)
                    try await outbound.write(ByteBuffer(string: "hi"))
                    #expect(await watcher.waitForBytes(2))
                    #expect(try await server.admin.delete("/proxies/gone").status == 204)
                    #expect(await watcher.waitForClose() != nil)
                    await watcher.stop()
                }
                #expect(await Self.connectError(port: port) == ECONNREFUSED)
            }
        }
    }

    /// The errno of a failed connect to 127.0.0.1:`port`, or nil if it connected.
    static func connectError(port: Int) async -> Int32? {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port)
                .get()
            try? await channel.close()
            return nil
        } catch let error as IOError {
            return error.errnoCode
        } catch let error as NIOConnectionError {
            return (error.connectionErrors.first?.error as? IOError)?.errnoCode
        } catch {
            return -1
        }
    }
}
