import KubeDeploy
import Testing

@Suite struct KubeTargetTests {
    @Test func defaultsFollowTheSeed() throws {
        let target = try KubeTarget(namespace: "edge")
        #expect(target.deployment == "edge-endpoint")
        #expect(target.image == "ghcr.io/shopify/toxiproxy:2.12.0")
        #expect(target.hosts.count == 1)
        let host = target.hosts[0]
        #expect(host.host == "api.groundlight.ai")
        #expect(host.port == 443)
        #expect(host.proxyName == "api_groundlight_ai")
        #expect(host.listenPort == 10443)
        #expect(host.upstream == "api.groundlight.ai:443")
        #expect(host.serviceName == "toxictl-edge-endpoint-api-groundlight-ai")
        #expect(target.instance == "toxictl-edge-endpoint")
        #expect(target.proxyDeploymentName == "toxictl-edge-endpoint-proxy")
        #expect(
            target.labelSelector
                == "app.kubernetes.io/instance=toxictl-edge-endpoint,app.kubernetes.io/managed-by=toxictl,"
                + "app.kubernetes.io/name=toxiproxy"
        )
    }

    @Test func eachHostGetsItsOwnProxyPortAndService() throws {
        let target = try KubeTarget(namespace: "edge", hosts: ["api.groundlight.ai:443", "Metrics.Example.com:8443"])
        #expect(target.hosts.map(\.listenPort) == [10443, 10444])
        #expect(target.hosts.map(\.proxyName) == ["api_groundlight_ai", "metrics_example_com"])
        #expect(target.hosts[1].port == 8443)
        #expect(Set(target.hosts.map(\.serviceName)).count == 2)
    }

    @Test func twoTargetsInOneNamespaceNeverShareNames() throws {
        let one = try KubeTarget(namespace: "edge", deployment: "edge-endpoint")
        let two = try KubeTarget(namespace: "edge", deployment: "edge-endpoint-b")
        #expect(one.instance != two.instance)
        #expect(one.hosts[0].serviceName != two.hosts[0].serviceName)
        #expect(one.configMapName != two.configMapName)
    }

    @Test func longDeploymentNamesStillGiveValidDistinctNames() throws {
        let long = String(repeating: "a", count: 60) + "." + String(repeating: "b", count: 20)
        let one = try KubeTarget(namespace: "edge", deployment: long + "x")
        let two = try KubeTarget(namespace: "edge", deployment: long + "y")
        for name in [one.instance, one.proxyDeploymentName, one.hosts[0].serviceName, one.adminServiceName] {
            #expect(name.count <= 63)
            #expect(name.last != "-")
        }
        #expect(one.instance != two.instance)
    }

    @Test(arguments: [
        ["api.groundlight.ai", "api.groundlight.ai:8443"],
        ["a.b", "a-b"],
        ["10.0.0.1:443"],
        ["host:0"],
        ["host:https"],
        ["bad host"],
        [String](),
    ])
    func rejectsHostsThatCannotBeRouted(hosts: [String]) {
        #expect(throws: KubeDeployError.self) { try KubeTarget(namespace: "edge", hosts: hosts) }
    }

    @Test func rejectsBadNamesBeforeContactingTheCluster() {
        #expect(throws: KubeDeployError.self) { try KubeTarget(namespace: "Edge") }
        #expect(throws: KubeDeployError.self) { try KubeTarget(namespace: "edge", deployment: "-x") }
        #expect(throws: KubeDeployError.self) { try KubeTarget(namespace: "edge", image: "a b") }
    }
}
