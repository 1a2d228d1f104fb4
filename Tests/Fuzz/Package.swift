// swift-tools-version:6.0
// convd's libFuzzer targets (issue 8 item 7). A separate package, so the main package never
// sees a sanitizer flag: scripts/fuzz builds it with
//     swift build -c release --package-path Tests/Fuzz --scratch-path .build-fuzz \
//         --sanitize=fuzzer --sanitize=address
// Each executable defines LLVMFuzzerTestOneInput and gets libFuzzer's main at link time.
// The C shim alone (fuzz-cpng) is built by scripts/fuzz with clang, not here.
import PackageDescription

let package = Package(
    name: "convd-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "convd", path: "../.."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "fuzz-png", dependencies: [
            "FuzzSupport", .product(name: "ConvdImage", package: "convd"), .product(name: "ConvdCore", package: "convd"),
        ]),
        .executableTarget(name: "fuzz-chain", dependencies: ["FuzzSupport", .product(name: "ConvdCore", package: "convd")]),
        .executableTarget(name: "fuzz-config", dependencies: ["FuzzSupport", .product(name: "ConvdConfig", package: "convd")]),
        .executableTarget(name: "fuzz-architecture", dependencies: [
            "FuzzSupport", .product(name: "ConvdConfig", package: "convd"), .product(name: "ConvdNet", package: "convd"),
        ]),
        .executableTarget(name: "fuzz-safetensors", dependencies: [
            "FuzzSupport", .product(name: "ConvdNet", package: "convd"),
        ]),
        .executableTarget(name: "fuzz-onnx", dependencies: [
            "FuzzSupport", .product(name: "ConvdOnnx", package: "convd"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
