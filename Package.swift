// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-toxiproxy",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ToxiproxyModel", targets: ["ToxiproxyModel"]),
        .library(name: "ToxiproxyServer", targets: ["ToxiproxyServer"]),
        .library(name: "ToxiproxyClient", targets: ["ToxiproxyClient"]),
        .library(name: "Impairments", targets: ["Impairments"]),
        .library(name: "KubeDeploy", targets: ["KubeDeploy"]),
        .library(name: "Scenarios", targets: ["Scenarios"]),
        .executable(name: "toxiproxy-server", targets: ["toxiproxy-server"]),
        .executable(name: "toxictl", targets: ["toxictl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "ToxiproxyModel",
            swiftSettings: swiftSettings
        ),
        // Scenarios: the file format, validation, the schedule and restore plans, the engine as a state machine
        // over injected time, and the recovery report. No I/O.
        .target(
            name: "Scenarios",
            dependencies: [
                "ToxiproxyModel",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ToxiproxyServer",
            dependencies: [
                "ToxiproxyModel",
                "Scenarios",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ToxiproxyClient",
            dependencies: [
                "ToxiproxyModel",
                "Scenarios",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Impairments",
            dependencies: ["ToxiproxyModel", "ToxiproxyClient"],
            swiftSettings: swiftSettings
        ),
        // The cluster side of toxictl: manifests, routing, port-forward and the install workflow over a
        // `Kubectl` protocol. Knows nothing of toxics.
        .target(
            name: "KubeDeploy",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess")
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "toxictl",
            dependencies: [
                "KubeDeploy",
                "Scenarios",
                "ToxiproxyModel",
                "ToxiproxyClient",
                "Impairments",
                "ToxiproxyServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "toxiproxy-server",
            dependencies: [
                "ToxiproxyServer",
                "ToxiproxyModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ScenariosTests",
            dependencies: ["Scenarios", "ToxiproxyModel"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ToxiproxyModelTests",
            dependencies: ["ToxiproxyModel"],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets: a server on an ephemeral port, an echo upstream, raw HTTP and
        // TCP clients, and the hashing and random data that move hundreds of MiB per run (so optimised even
        // in debug builds, where they would otherwise dominate the suite's time).
        .target(
            name: "ToxiproxyTestSupport",
            dependencies: [
                "ToxiproxyServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/ToxiproxyTestSupport",
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"])]
        ),
        // The loopback Kubernetes control plane of ../shared/kube-harness as tests reach it: kubectl with a
        // deadline, fresh namespaces, the built toxiproxy-server playing each pod's container (stand-ins on
        // the pod IPs), and port-forwards on ephemeral local ports.
        .target(
            name: "KubeHarnessSupport",
            dependencies: [
                "ToxiproxyTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/KubeHarnessSupport",
            swiftSettings: swiftSettings
        ),
        // End to end on the harness (KUBE_HARNESS_KUBECONFIG; skipped without it): stand-ins, real readiness,
        // port-forward and traffic to pod IPs, and a rollout onto a new pod.
        .testTarget(
            name: "KubeHarnessTests",
            dependencies: [
                "KubeHarnessSupport",
                "ToxiproxyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ToxiproxyServerTests",
            dependencies: [
                "ToxiproxyServer",
                "ToxiproxyModel",
                "ToxiproxyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ToxiproxyClientTests",
            dependencies: [
                "ToxiproxyClient",
                "ToxiproxyModel",
                "ToxiproxyServer",
                "ToxiproxyTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubeDeployTests",
            dependencies: ["KubeDeploy", "KubeHarnessSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ImpairmentsTests",
            dependencies: [
                "Impairments",
                "ToxiproxyClient",
                "ToxiproxyModel",
                "ToxiproxyServer",
                "ToxiproxyTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        // Black-box tests of the built toxictl binary (it is built before the tests by `swift build`).
        .testTarget(
            name: "toxictlTests",
            dependencies: [
                "ToxiproxyModel",
                "ToxiproxyServer",
                "ToxiproxyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            // `--help` snapshots, read through #filePath.
            exclude: ["Snapshots"],
            swiftSettings: swiftSettings
        ),
        // Soak with chaos, admin API abuse, connection churn and shutdown under load, against the built
        // toxiproxy-server as a subprocess (short form by default, RELIABILITY_LONG=1 for the long form).
        .testTarget(
            name: "ReliabilityTests",
            dependencies: [
                "ToxiproxyServer",
                "ToxiproxyModel",
                "ToxiproxyTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Throughput, latency, memory and toxic accuracy on loopback: direct vs our server vs any other
        // Toxiproxy-compatible server binary (see Benchmarks/README.md). Not run by the tests.
        .executableTarget(
            name: "Benchmarks",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Benchmarks/Sources",
            swiftSettings: swiftSettings
        ),
    ]
)
