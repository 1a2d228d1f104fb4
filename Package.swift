// swift-tools-version:6.0
// convd: watch folders and run convolution filter chains or a CNN classifier on every PNG.
// Layout and dependency direction: DESIGN.md §1 (convd → ConvdImage → ConvdCore → C shims).
import PackageDescription

let package = Package(
    name: "convd",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "convd", targets: ["convd"]),
        .library(name: "ConvdCore", targets: ["ConvdCore"]),
        .library(name: "ConvdImage", targets: ["ConvdImage"]),
        .library(name: "ConvdSystem", targets: ["ConvdSystem"]),
        .library(name: "ConvdDaemon", targets: ["ConvdDaemon"]),
        .library(name: "ConvdPipeline", targets: ["ConvdPipeline"]),
        .library(name: "ConvdNet", targets: ["ConvdNet"]),
        .library(name: "ConvdData", targets: ["ConvdData"]),
        .library(name: "ConvdOnnx", targets: ["ConvdOnnx"]),
        // For the fuzz package (Tests/Fuzz), which links the config and architecture parsers.
        .library(name: "ConvdConfig", targets: ["ConvdConfig"]),
        // For the benchmarks, which start a PostgreSQL server as the fleet tests do.
        .library(name: "ConvdTestSupport", targets: ["ConvdTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // libpng's classic API behind a C shim that keeps every setjmp/longjmp inside C.
        .target(
            name: "CPNG",
            path: "Sources/CPNG",
            linkerSettings: [.linkedLibrary("png16")]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The direct-correlation inner loops, compiled per instruction set and chosen at run time.
        .target(
            name: "CConvKernels",
            path: "Sources/CConvKernels"
        ),
        // Linux calls that Swift's Glibc module does not import (sync_file_range).
        .target(name: "CSystem"),
        // File access by descriptor, typed system errors, path keys, text escaping, clocks:
        // what is not image work, below every other target.
        .target(name: "ConvdSystem", dependencies: ["CSystem"]),
        .target(
            name: "ConvdCore",
            dependencies: ["COpenBLAS", "CConvKernels"]
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // libinotifytools (Debian ships no .pc file, so the module map names the library).
        .systemLibrary(name: "CInotifyTools", path: "Sources/CInotifyTools",
                       providers: [.apt(["libinotifytools0-dev"])]),
        // SQLite, the ledger's crash-safe store.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // libpq, the PostgreSQL ledger's connection (a fleet of hosts sharing one database).
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "ConvdWatch",
            dependencies: ["ConvdSystem", "CInotifyTools"]
        ),
        .target(
            name: "ConvdDaemon",
            dependencies: [
                "ConvdConfig", "ConvdWatch", "ConvdPipeline", "ConvdImage", "ConvdNet", "ConvdOnnx", "ConvdCore", "ConvdSystem",
                "CSQLite", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "ConvdConfig",
            dependencies: ["ConvdNet", "ConvdOnnx", "ConvdCore", "ConvdImage", "ConvdSystem",
                           .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "ConvdData",
            dependencies: ["ConvdNet", "ConvdImage", "ConvdSystem", "CZlib"]
        ),
        .target(
            name: "ConvdNet",
            dependencies: ["ConvdCore", "CConvKernels"]
        ),
        // ONNX models: the protobuf subset (generated once, committed), the importer that turns a
        // ModelProto into a shape-checked graph, and the operators that run it.
        .target(
            name: "ConvdOnnx",
            dependencies: ["ConvdCore", "ConvdNet", "ConvdSystem", "CConvKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Proto/onnx-subset.proto"]
        ),
        // One image through decode → chain → model → outputs, with every limit checked before
        // the buffer it guards: used by `convd filter`, `convd classify` and the daemon.
        .target(
            name: "ConvdPipeline",
            dependencies: ["ConvdImage", "ConvdNet", "ConvdOnnx", "ConvdCore", "ConvdSystem"]
        ),
        .target(
            name: "ConvdImage",
            dependencies: ["ConvdCore", "ConvdSystem", "CPNG"]
        ),
        .executableTarget(
            name: "convd",
            dependencies: [
                "ConvdCore", "ConvdImage", "ConvdNet", "ConvdData", "ConvdConfig", "ConvdDaemon", "ConvdPipeline",
                "ConvdSystem", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "ConvdTestSupport",
            dependencies: ["ConvdCore", "ConvdImage", "ConvdNet", "ConvdSystem", "CPNG", "CZlib"]
        ),
        .testTarget(name: "ConvdCoreTests", dependencies: ["ConvdCore", "ConvdTestSupport", "CConvKernels"]),
        .testTarget(name: "ConvdImageTests", dependencies: ["ConvdImage", "ConvdSystem", "ConvdTestSupport", "CPNG"]),
        .testTarget(name: "ConvdPipelineTests", dependencies: ["ConvdPipeline", "ConvdImage", "ConvdSystem",
                                                               "ConvdTestSupport"]),
        .testTarget(name: "ConvdSystemTests", dependencies: ["ConvdSystem", "ConvdTestSupport"]),
        .testTarget(name: "ConvdNetTests", dependencies: ["ConvdNet", "ConvdTestSupport"]),
        .testTarget(name: "ConvdConfigTests", dependencies: ["ConvdConfig", "ConvdNet", "ConvdTestSupport"]),
        .testTarget(name: "ConvdWatchTests", dependencies: ["ConvdWatch", "ConvdTestSupport"]),
        .testTarget(name: "ConvdDaemonTests", dependencies: [
            "ConvdDaemon", "ConvdConfig", "ConvdWatch", "ConvdSystem", "ConvdTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ConvdDataTests", dependencies: ["ConvdData", "ConvdTestSupport"]),
        .testTarget(name: "ConvdOnnxTests", dependencies: ["ConvdOnnx", "ConvdConfig", "ConvdTestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ConvdEndToEndTests", dependencies: ["ConvdImage", "ConvdPipeline", "ConvdSystem",
                                                               "ConvdTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
