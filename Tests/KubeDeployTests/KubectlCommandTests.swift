import KubeDeploy
import Testing

@Suite struct KubectlCommandTests {
    let options = KubectlOptions(
        namespace: "edge",
        context: "prod",
        kubeconfig: "/tmp/kc",
        requestTimeout: .seconds(20)
    )
    let plain = KubectlOptions(namespace: "edge")

    @Test func everyCallNamesContextKubeconfigTimeoutAndNamespace() {
        #expect(
            KubectlCommand.get(options, kind: .deployment, name: "edge-endpoint").arguments == [
                "--context=prod", "--kubeconfig=/tmp/kc", "--request-timeout=20s",
                "get", "deployments", "edge-endpoint", "--ignore-not-found", "-o", "json", "-n", "edge",
            ]
        )
        #expect(
            KubectlCommand.get(plain, kind: .service, name: "s").arguments == [
                "--request-timeout=30s", "get", "services", "s", "--ignore-not-found", "-o", "json", "-n", "edge",
            ]
        )
        #expect(KubectlCommand.get(options, kind: .pod, name: "p").deadline == .seconds(30))
    }

    @Test func clusterScopedCallsHaveNoNamespaceFlag() {
        #expect(
            KubectlCommand.getNamespace(plain).arguments == [
                "--request-timeout=30s", "get", "namespace", "edge", "--ignore-not-found", "-o", "json",
            ]
        )
        #expect(
            KubectlCommand.configView(options).arguments == [
                "--context=prod", "--kubeconfig=/tmp/kc", "--request-timeout=20s", "config", "view", "--minify", "-o",
                "json",
            ]
        )
    }

    @Test func applyIsServerSideWithOurFieldManagerAndAListOnStdin() throws {
        let object: JSON = ["kind": "ConfigMap", "metadata": ["name": "x"]]
        let command = KubectlCommand.apply(plain, objects: [object], dryRun: .none)
        #expect(
            command.arguments == [
                "--request-timeout=30s", "apply", "--server-side", "--field-manager=toxictl", "-o", "json", "-f", "-",
                "-n", "edge",
            ]
        )
        #expect(
            try JSON(parsing: try #require(command.input)) == ["apiVersion": "v1", "kind": "List", "items": [object]]
        )
        #expect(KubectlCommand.apply(plain, objects: [], dryRun: .server).arguments.contains("--dry-run=server"))
    }

    @Test func patchDeleteAndCanI() {
        #expect(
            KubectlCommand.patch(plain, kind: .deployment, name: "d", type: .strategic, patch: ["a": 1]).arguments == [
                "--request-timeout=30s", "patch", "deployments", "d", "--type=strategic", "--field-manager=toxictl",
                "-o", "json", "-p", #"{"a":1}"#, "-n", "edge",
            ]
        )
        #expect(
            KubectlCommand.delete(plain, kind: .configMap, name: "c").arguments == [
                "--request-timeout=30s", "delete", "configmaps", "c", "--ignore-not-found", "-o", "name", "-n", "edge",
            ]
        )
        #expect(
            KubectlCommand.canI(plain, verb: "create", resource: "pods", subresource: "portforward", name: nil)
                .arguments == [
                    "--request-timeout=30s", "auth", "can-i", "create", "pods", "--subresource=portforward", "-n",
                    "edge",
                ]
        )
        #expect(
            KubectlCommand.canI(plain, verb: "patch", resource: "deployments", subresource: nil, name: "edge-endpoint")
                .arguments == [
                    "--request-timeout=30s", "auth", "can-i", "patch", "deployments/edge-endpoint", "-n", "edge",
                ]
        )
    }

    @Test func rolloutStatusWaitsAsLongAsItsTimeout() {
        let command = KubectlCommand.rolloutStatus(plain, deployment: "edge-endpoint", timeout: .seconds(120))
        #expect(
            command.arguments == [
                "--request-timeout=125s", "rollout", "status", "deployment/edge-endpoint", "--watch=true",
                "--timeout=120s", "-n", "edge",
            ]
        )
        #expect(command.deadline == .seconds(135))
    }

    @Test func portForwardUsesAnEphemeralLoopbackPort() {
        #expect(
            KubectlCommand.portForward(options, target: .deployment("toxictl-edge-endpoint-proxy"), remotePort: 8474)
                .arguments == [
                    "--context=prod", "--kubeconfig=/tmp/kc", "port-forward", "--address", "127.0.0.1",
                    "--pod-running-timeout=20s", "deployment/toxictl-edge-endpoint-proxy", ":8474", "-n", "edge",
                ]
        )
    }
}
