// fuzz-onnx: an ONNX model file from arbitrary bytes — the protobuf, every tensor's type,
// dimensions and data, attributes, functions and their inlining, then import (shape inference,
// constant folding, fusion) for the declared input sizes (symbolic ones as 4), and, when the
// graph is small, one run on zeros. Every input must import or throw an OnnxError with a
// reason; a run must give the declared outputs. External data is looked up in a folder that
// does not exist, so no file outside the input is ever read.
import ConvdOnnx
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOnnx(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    var limits = OnnxLimits()
    limits.maxElements = 1 << 20
    limits.maxNodes = 2_000
    do {
        let file = try OnnxFile.parse(bytes, path: "/nonexistent-convd-fuzz/fuzz.onnx", limits: limits)
        var shapes: [String: [Int]] = [:]
        for input in file.declaredInputs {
            shapes[input.name] = (input.shape ?? [1, 3, 4, 4]).map { min($0 ?? 4, 64) }
        }
        let graph = try file.compile(shapes: shapes)
        note("imported: \(graph.rows.count) steps, peak \(graph.peakBytes) bytes")
        guard graph.peakBytes < 64 << 20 else { return 0 }
        let inputs = graph.inputs.map { OnnxTensor(shape: $0.shape, floats: [Float](repeating: 0, count: $0.shape.shapeElements)) }
        let outputs = graph.run(inputs)
        precondition(outputs.map(\.shape) == graph.outputs.map(\.shape), "outputs differ from their declared shapes")
    } catch {
        note("\(error)")
        precondition(!error.reason.isEmpty, "an empty reason")
    }
    return 0
}
