/// The objects of one install, generated from a ``KubeTarget``: a ConfigMap with the proxy definitions,
/// the proxy Deployment started with `-config` from it, an admin Service and one Service per routed host.
///
/// All Services are ClusterIP: nothing is reachable from outside the cluster.
public struct ProxyManifests: Sendable {
    public let target: KubeTarget

    public init(target: KubeTarget) {
        self.target = target
    }

    /// Every object in apply order: ConfigMap, Deployment, admin Service, host Services.
    public var all: [JSON] { [configMap, deployment, adminService] + hostServices }

    /// Toxiproxy's `-config` file: the proxies it creates at start, so a restarted pod has them again.
    public var proxyConfig: JSON {
        .array(
            target.hosts.map { host in
                [
                    "name": .string(host.proxyName),
                    "listen": .string("0.0.0.0:\(host.listenPort)"),
                    "upstream": .string(host.upstream),
                    "enabled": true,
                ]
            }
        )
    }

    public var configMap: JSON {
        [
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": metadata(name: target.configMapName),
            "data": ["toxiproxy.json": .string(proxyConfig.jsonText)],
        ]
    }

    public var deployment: JSON {
        let labels = labelsJSON
        var ports: [JSON] = [
            ["name": "admin", "containerPort": .int(KubeTarget.adminPort), "protocol": "TCP"]
        ]
        for (index, host) in target.hosts.enumerated() {
            ports.append(["name": .string("proxy-\(index)"), "containerPort": .int(host.listenPort), "protocol": "TCP"])
        }
        let probe: (Int, Int) -> JSON = { period, failures in
            [
                "httpGet": ["path": "/version", "port": .int(KubeTarget.adminPort)],
                "periodSeconds": .int(period),
                "timeoutSeconds": 2,
                "failureThreshold": .int(failures),
            ]
        }
        let container: JSON = [
            "name": "toxiproxy",
            "image": .string(target.image),
            "args": ["-host=0.0.0.0", "-config=/config/toxiproxy.json"],
            "ports": .array(ports),
            "volumeMounts": [["name": "config", "mountPath": "/config", "readOnly": true]],
            "resources": [
                "requests": ["cpu": "50m", "memory": "32Mi"],
                "limits": ["cpu": "1", "memory": "128Mi"],
            ],
            "securityContext": [
                "runAsNonRoot": true,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false,
                "capabilities": ["drop": ["ALL"]],
                "seccompProfile": ["type": "RuntimeDefault"],
            ],
            "readinessProbe": probe(5, 3),
            "livenessProbe": probe(10, 3),
        ]
        return [
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": metadata(name: target.proxyDeploymentName),
            "spec": [
                "replicas": 1,
                "selector": ["matchLabels": labels],
                "template": [
                    "metadata": [
                        "labels": labels,
                        // A changed ConfigMap is read only at start: a new hash rolls the pod so it takes effect.
                        "annotations": ["toxictl.dev/config-hash": .string(Self.hash(proxyConfig.jsonText))],
                    ],
                    "spec": [
                        "automountServiceAccountToken": false,
                        "securityContext": [
                            "runAsNonRoot": true,
                            "runAsUser": 65532,
                            "runAsGroup": 65532,
                            "seccompProfile": ["type": "RuntimeDefault"],
                        ],
                        "containers": [container],
                        "volumes": [["name": "config", "configMap": ["name": .string(target.configMapName)]]],
                    ],
                ],
            ],
        ]
    }

    /// The admin API (8474), reached by port-forward to the pod, never from outside the cluster.
    public var adminService: JSON {
        service(
            name: target.adminServiceName,
            port: ["name": "admin", "port": .int(KubeTarget.adminPort), "targetPort": .int(KubeTarget.adminPort)],
            annotations: [:]
        )
    }

    /// One Service per host, since every host uses the same port (443) and needs its own ClusterIP.
    public var hostServices: [JSON] {
        target.hosts.map { host in
            service(
                name: host.serviceName,
                port: ["name": "proxy", "port": .int(host.port), "targetPort": .int(host.listenPort)],
                annotations: ["toxictl.dev/host": .string(host.upstream)]
            )
        }
    }

    private var labelsJSON: JSON { .object(target.labels.mapValues { .string($0) }) }

    private func metadata(name: String, annotations: [String: JSON] = [:]) -> JSON {
        var metadata: [String: JSON] = [
            "name": .string(name),
            "namespace": .string(target.namespace),
            "labels": labelsJSON,
        ]
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations) }
        return .object(metadata)
    }

    private func service(name: String, port: [String: JSON], annotations: [String: JSON]) -> JSON {
        var port = port
        // Server-side apply on Kubernetes 1.20 rejects Service ports without a protocol (it is a list key).
        port["protocol"] = "TCP"
        return [
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(name: name, annotations: annotations),
            "spec": [
                "type": "ClusterIP",
                "selector": labelsJSON,
                "ports": [.object(port)],
            ],
        ]
    }

    /// FNV-1a, 64 bits, hex: stable across runs and platforms, unlike `Hasher`.
    static func hash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
