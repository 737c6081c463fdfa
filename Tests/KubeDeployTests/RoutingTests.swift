import KubeDeploy
import Testing

@Suite struct RoutingTests {
    let routes = ["api.groundlight.ai": "10.96.0.10"]

    @Test func routesByAddingOnlyOurEntryAndTheRecord() throws {
        let deployment = Fixtures.userDeployment(aliases: [["ip": "10.0.0.5", "hostnames": ["db.internal"]]])
        let patch = try #require(try Routing.patch(for: deployment, routes: routes))
        #expect(
            patch == [
                "metadata": ["annotations": ["toxictl.dev/routing": #"{"api.groundlight.ai":"10.96.0.10"}"#]],
                "spec": [
                    "template": ["spec": ["hostAliases": [["ip": "10.96.0.10", "hostnames": ["api.groundlight.ai"]]]]]
                ],
            ]
        )
        let routed = FakeKubectl.strategicMerge(deployment, patch)
        #expect(
            Routing.aliases(of: routed) == [
                HostAlias(ip: "10.0.0.5", hostnames: ["db.internal"]),
                HostAlias(ip: "10.96.0.10", hostnames: ["api.groundlight.ai"]),
            ]
        )
        #expect(try RoutingRecord(deployment: routed).routes == routes)
    }

    @Test func aRerunNeedsNoChange() throws {
        let deployment = Fixtures.userDeployment()
        let routed = FakeKubectl.strategicMerge(
            deployment,
            try #require(try Routing.patch(for: deployment, routes: routes))
        )
        #expect(try Routing.patch(for: routed, routes: routes) == nil)
    }

    @Test func unroutingRemovesExactlyOurEntriesAndTheRecord() throws {
        let original = Fixtures.userDeployment(aliases: [["ip": "10.0.0.5", "hostnames": ["db.internal"]]])
        let routed = FakeKubectl.strategicMerge(
            original,
            try #require(try Routing.patch(for: original, routes: routes))
        )
        let patch = try #require(try Routing.patch(for: routed, routes: [:]))
        #expect(
            patch == [
                "metadata": ["annotations": ["toxictl.dev/routing": .null]],
                "spec": ["template": ["spec": ["hostAliases": [["ip": "10.96.0.10", "$patch": "delete"]]]]],
            ]
        )
        #expect(FakeKubectl.strategicMerge(routed, patch) == original)
        #expect(try Routing.patch(for: original, routes: [:]) == nil)
    }

    /// `hostnames` is atomic: a bare `{ip, hostnames: [ours]}` would wipe the user's names at that IP, and a
    /// delete by IP would remove them.
    @Test func aUserAliasAtTheSameIPKeepsItsHostnames() throws {
        let original = Fixtures.userDeployment(aliases: [["ip": "10.96.0.10", "hostnames": ["proxy.local"]]])
        let patch = try #require(try Routing.patch(for: original, routes: routes))
        #expect(
            patch[["spec", "template", "spec", "hostAliases"]]
                == [["ip": "10.96.0.10", "hostnames": ["proxy.local", "api.groundlight.ai"]]]
        )
        let routed = FakeKubectl.strategicMerge(original, patch)
        let unpatch = try #require(try Routing.patch(for: routed, routes: [:]))
        #expect(
            unpatch[["spec", "template", "spec", "hostAliases"]] == [
                ["ip": "10.96.0.10", "hostnames": ["proxy.local"]]
            ]
        )
        #expect(FakeKubectl.strategicMerge(routed, unpatch) == original)
    }

    @Test func aUserAliasForOurHostnameIsAConflict() throws {
        let deployment = Fixtures.userDeployment(aliases: [["ip": "1.2.3.4", "hostnames": ["api.groundlight.ai"]]])
        let error = try #require(throws: KubeDeployError.self) { try Routing.patch(for: deployment, routes: routes) }
        #expect(error.code == .routingConflict)
        #expect(error.message.contains("api.groundlight.ai → 1.2.3.4"))
    }

    @Test func aNewClusterIPMovesOurEntry() throws {
        let original = Fixtures.userDeployment()
        let routed = FakeKubectl.strategicMerge(
            original,
            try #require(try Routing.patch(for: original, routes: routes))
        )
        let moved = try #require(try Routing.patch(for: routed, routes: ["api.groundlight.ai": "10.96.0.99"]))
        let result = FakeKubectl.strategicMerge(routed, moved)
        #expect(Routing.aliases(of: result) == [HostAlias(ip: "10.96.0.99", hostnames: ["api.groundlight.ai"])])
        #expect(try RoutingRecord(deployment: result).routes == ["api.groundlight.ai": "10.96.0.99"])
    }

    @Test func twoHostsAndAPartialRerun() throws {
        let original = Fixtures.userDeployment()
        let both = ["a.example.com": "10.96.0.10", "b.example.com": "10.96.0.11"]
        let routed = FakeKubectl.strategicMerge(original, try #require(try Routing.patch(for: original, routes: both)))
        #expect(Routing.aliases(of: routed).count == 2)
        // Someone removed one of our entries by hand: the re-run puts back only that one.
        var edited = routed
        edited = FakeKubectl.strategicMerge(
            edited,
            ["spec": ["template": ["spec": ["hostAliases": [["ip": "10.96.0.11", "$patch": "delete"]]]]]]
        )
        let repair = try #require(try Routing.patch(for: edited, routes: both))
        #expect(repair["metadata"] == nil)
        #expect(
            repair[["spec", "template", "spec", "hostAliases"]] == [
                ["ip": "10.96.0.11", "hostnames": ["b.example.com"]]
            ]
        )
    }

    @Test func anUnreadableRecordIsReportedNotGuessed() {
        var deployment = Fixtures.userDeployment().objectValue!
        deployment["metadata"] = ["name": "edge-endpoint", "annotations": ["toxictl.dev/routing": "not json"]]
        #expect(throws: KubeDeployError.self) { try Routing.patch(for: .object(deployment), routes: [:]) }
    }
}
