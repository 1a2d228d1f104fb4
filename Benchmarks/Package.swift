// swift-tools-version:6.0
// convd's benchmarks: their own package so the main build and CI never compile them.
// Run: swift run -c release --package-path Benchmarks convd-bench filters|cnn
import PackageDescription

let package = Package(
    name: "convd-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "convd", path: "..")],
    targets: [
        .executableTarget(
            name: "convd-bench",
            dependencies: [
                .product(name: "ConvdCore", package: "convd"),
                .product(name: "ConvdImage", package: "convd"),
                .product(name: "ConvdNet", package: "convd"),
                .product(name: "ConvdData", package: "convd"),
                .product(name: "ConvdDaemon", package: "convd"),
                .product(name: "ConvdOnnx", package: "convd"),
                .product(name: "ConvdConfig", package: "convd"),
                .product(name: "ConvdTestSupport", package: "convd"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
