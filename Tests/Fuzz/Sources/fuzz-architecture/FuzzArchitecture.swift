// fuzz-architecture: ArchitectureFile.parse on arbitrary text (the TOML pre-scan, TOMLKit/
// toml++, the [input] and [[layer]] checks, LayerSpec(fields:) and NetworkPlan). Every input
// must parse or throw an ArchitectureFileError; an architecture that parses and is small by its
// own plan is also built into a Network, which must then succeed with the planned shapes.
import ConvdConfig
import ConvdNet
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArchitecture(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    let architecture: Architecture
    do {
        architecture = try ArchitectureFile.parse(text, path: "fuzz.toml")
    } catch {
        note("\(error)")
        precondition(!error.reason.isEmpty, "an empty reason")
        return 0
    }
    precondition(!architecture.layers.isEmpty, "an architecture without layers")
    note("parsed \(architecture.name): \(architecture.layers.count) layers")
    // The parse accepted the plan; building must agree with it. Large networks (the limits
    // allow 2^28 parameters) are only planned, to keep each execution fast.
    guard let plan = try? NetworkPlan(input: architecture.input, nodes: architecture.layers) else {
        fatalError("ArchitectureFile.parse accepted a network its plan refuses")
    }
    let largestMap = plan.shapes.map { $0.channels * $0.height * $0.width }.max() ?? 0
    guard plan.parameterCount <= 1 << 20, largestMap <= 1 << 20 else { return 0 }
    do {
        let network = try Network(input: architecture.input, nodes: architecture.layers)
        precondition(network.nodes == architecture.layers, "layers lost while building")
    } catch {
        fatalError("Network refused an architecture its plan accepts: \(error)")
    }
    return 0
}
