import Foundation
import KubeDeploy
import Testing

@Suite struct ProxyManifestsTests {
    let target = try! KubeTarget(namespace: "edge", hosts: ["api.groundlight.ai:443", "metrics.example.com"])
    var manifests: ProxyManifests { ProxyManifests(target: target) }

    @Test func configMapHoldsTheProxyDefinitions() throws {
        let configMap = manifests.configMap
        #expect(configMap["kind"] == "ConfigMap")
        #expect(configMap[["metadata", "name"]] == "toxictl-edge-endpoint-proxy-config")
        let text = try #require(configMap[["data", "toxiproxy.json"]]?.stringValue)
        #expect(
            try JSON(parsing: text) == [
                [
                    "name": "api_groundlight_ai", "listen": "0.0.0.0:10443", "upstream": "api.groundlight.ai:443",
                    "enabled": true,
                ],
                [
                    "name": "metrics_example_com", "listen": "0.0.0.0:10444",
                    "upstream": "metrics.example.com:443", "enabled": true,
                ],
            ]
        )
    }

    @Test func deploymentRunsTheProxyLockedDown() throws {
        let deployment = manifests.deployment
        let pod = try #require(deployment[["spec", "template", "spec"]])
        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(container["image"] == "ghcr.io/shopify/toxiproxy:2.12.0")
        #expect(container["args"] == ["-host=0.0.0.0", "-config=/config/toxiproxy.json"])
        #expect(container["volumeMounts"] == [["name": "config", "mountPath": "/config", "readOnly": true]])
        #expect(pod["volumes"] == [["name": "config", "configMap": ["name": "toxictl-edge-endpoint-proxy-config"]]])
        let security = try #require(container["securityContext"])
        #expect(security["runAsNonRoot"] == true)
        #expect(security["runAsUser"] == 65532)
        #expect(security["runAsGroup"] == 65532)
        #expect(security["readOnlyRootFilesystem"] == true)
        #expect(security["allowPrivilegeEscalation"] == false)
        #expect(security["capabilities"] == ["drop": ["ALL"]])
        #expect(security["seccompProfile"] == ["type": "RuntimeDefault"])
        #expect(container[["resources", "requests"]]?["memory"] != nil)
        #expect(container[["resources", "limits"]]?["cpu"] != nil)
        for probe in ["readinessProbe", "livenessProbe"] {
            #expect(container[[probe, "httpGet"]] == ["path": "/version", "port": 8474])
        }
        #expect(
            container["ports"]?.arrayValue?.compactMap { $0["containerPort"]?.intValue } == [8474, 10443, 10444]
        )
        #expect(container["ports"]?.arrayValue?.allSatisfy { $0["protocol"] == "TCP" } == true)
        let labels: JSON = [
            "app.kubernetes.io/name": "toxiproxy", "app.kubernetes.io/managed-by": "toxictl",
            "app.kubernetes.io/instance": "toxictl-edge-endpoint",
        ]
        #expect(deployment[["metadata", "labels"]] == labels)
        #expect(deployment[["spec", "selector", "matchLabels"]] == labels)
        #expect(deployment[["spec", "template", "metadata", "labels"]] == labels)
    }

    @Test func aChangedProxyListRollsTheProxyPod() throws {
        let other = ProxyManifests(target: try KubeTarget(namespace: "edge"))
        let path = ["spec", "template", "metadata", "annotations", "toxictl.dev/config-hash"]
        #expect(manifests.deployment[path] != nil)
        #expect(manifests.deployment[path] != other.deployment[path])
        #expect(manifests.deployment[path] == ProxyManifests(target: target).deployment[path])
    }

    @Test func servicesAreClusterIPWithTCPPorts() throws {
        let admin = manifests.adminService
        #expect(admin[["metadata", "name"]] == "toxictl-edge-endpoint-proxy-admin")
        #expect(admin[["spec", "ports"]] == [["name": "admin", "port": 8474, "targetPort": 8474, "protocol": "TCP"]])
        let hosts = manifests.hostServices
        #expect(hosts.count == 2)
        #expect(
            hosts[0][["spec", "ports"]] == [["name": "proxy", "port": 443, "targetPort": 10443, "protocol": "TCP"]]
        )
        #expect(
            hosts[1][["spec", "ports"]] == [["name": "proxy", "port": 443, "targetPort": 10444, "protocol": "TCP"]]
        )
        for service in [admin] + hosts {
            #expect(service[["spec", "type"]] == "ClusterIP")
            #expect(service[["spec", "selector"]] == manifests.deployment[["spec", "selector", "matchLabels"]])
        }
    }

    @Test func everyObjectIsNamespacedLabelledAndNothingIsExposed() {
        #expect(manifests.all.map { $0["kind"] } == ["ConfigMap", "Deployment", "Service", "Service", "Service"])
        for object in manifests.all {
            #expect(object[["metadata", "namespace"]] == "edge")
            #expect(object[["metadata", "labels", "app.kubernetes.io/managed-by"]] == "toxictl")
            if let type = object[["spec", "type"]] { #expect(type == "ClusterIP") }
        }
    }

    @Test func yamlOfTheManifestsReadsBackAsTheSameStrings() {
        let yaml = JSON.yamlStream(manifests.all)
        #expect(yaml.components(separatedBy: "---\n").count == 6)
        #expect(yaml.contains("- \"-host=0.0.0.0\"\n"))
        #expect(yaml.contains("app.kubernetes.io/name: toxiproxy"))
        #expect(yaml.contains("cpu: \"50m\""))
    }
}
