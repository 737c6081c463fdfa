import KubeDeploy

enum Fixtures {
    static func target(hosts: [String] = [KubeTarget.defaultHost], deployment: String = "edge-endpoint") -> KubeTarget {
        try! KubeTarget(namespace: "edge", deployment: deployment, hosts: hosts)
    }

    /// The user's Deployment, rolled out, with `aliases` as its hostAliases.
    static func userDeployment(name: String = "edge-endpoint", aliases: [JSON] = []) -> JSON {
        var podSpec: [String: JSON] = [
            "containers": [["name": "endpoint", "image": "example.com/edge-endpoint:1.0"]]
        ]
        if !aliases.isEmpty { podSpec["hostAliases"] = .array(aliases) }
        return [
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": ["name": .string(name), "namespace": "edge", "labels": ["app": "edge-endpoint"]],
            "spec": [
                "replicas": 2,
                "selector": ["matchLabels": ["app": "edge-endpoint"]],
                "template": [
                    "metadata": ["labels": ["app": "edge-endpoint"]],
                    "spec": .object(podSpec),
                ],
            ],
            "status": [
                "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2,
                "availableReplicas": 2,
            ],
        ]
    }

    /// A user's object that must survive everything.
    static let userConfigMap: JSON = [
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ["name": "edge-settings", "namespace": "edge"],
        "data": ["mode": "prod"],
    ]
}
