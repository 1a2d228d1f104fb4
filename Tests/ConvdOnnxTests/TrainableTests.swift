// Imported graphs as convd layers (OnnxTrainable.swift): every committed fixture that convd's
// layers can express must give onnxruntime's outputs through the layers' own forward passes
// (the path training runs), and one that cannot names each node that stops it.
@testable import ConvdOnnx
import ConvdNet
import ConvdTestSupport
import Foundation
import Testing

@Suite("ONNX graphs as trainable convd layers")
struct TrainableTests {
    static let trainable = ["fmnist-small-dynamo", "fmnist-small-legacy", "lenet5-dynamo", "lenet5-legacy",
                            "squeezenet1_1-dynamo", "squeezenet1_1-legacy"]

    @Test("the layers give onnxruntime's outputs", arguments: trainable)
    func matches(_ name: String) throws {
        let folder = WholeModelTests.fixtures + "/" + name
        let input = try OnnxTensor.read(protobuf: "\(folder)/input_0.pb").tensor
        let want = try OnnxTensor.read(protobuf: "\(folder)/output_0.pb").tensor
        let shape = input.shape
        let graph = try OnnxFile.read(folder + "/model.onnx").trainableGraph(inputShape: [1] + Array(shape[1...]))
        let network = try graph.network()
        // NCHW → C×N×H×W.
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var batch = BatchTensor(channels: c, batch: n, height: shape[2], width: shape[3])
        for s in 0..<n {
            for k in 0..<c {
                batch.data.replaceSubrange(((k * n + s) * plane)..<((k * n + s + 1) * plane),
                                           with: input.floats[((s * c + k) * plane)..<((s * c + k + 1) * plane)])
            }
        }
        var context = LayerContext(training: false, threads: 2)
        context.blockedConvolution = false
        let logits = network.forward(batch, context: &context)
        let classes = want.shape.last ?? 1
        #expect(logits.channels == classes)
        // A final Softmax is left to the classifier: compare probabilities when the graph ends in one.
        let endsInSoftmax = want.floats.allSatisfy { $0 >= 0 && $0 <= 1 } && abs(want.floats.prefix(classes).reduce(0, +) - 1) < 1e-4
        let got = endsInSoftmax ? SoftmaxCrossEntropy.probabilities(logits) : logits
        let scale = want.floats.map(abs).max() ?? 1
        var worst: Float = 0
        for s in 0..<n {
            for k in 0..<classes { worst = max(worst, abs(got.data[k * n + s] - want.floats[s * classes + k])) }
        }
        #expect(worst <= 1e-4 * scale, "\(name): off by \(worst), largest output \(scale)")
    }

    @Test("a graph with operators that have no layer (squeeze-and-excitation gates) is refused, every node named",
          arguments: ["mobilenet_v3_small-legacy", "tinyrgb-dynamo-bn", "tinyrgb-legacy-bn"])
    func refused(_ name: String) throws {
        let folder = WholeModelTests.fixtures + "/" + name
        let input = try OnnxTensor.read(protobuf: "\(folder)/input_0.pb").tensor
        let file = try OnnxFile.read(folder + "/model.onnx")
        #expect(throws: OnnxError.self) { try file.trainableGraph(inputShape: [1] + Array(input.shape[1...])) }
        do {
            _ = try file.trainableGraph(inputShape: [1] + Array(input.shape[1...]))
        } catch {
            #expect(error.reason.hasPrefix("cannot train this graph as convd layers: "))
            #expect(error.reason.contains("Mul at node"), "\(error.reason)")
            #expect(error.reason.contains("HardSigmoid at node") || error.reason.contains("Sigmoid"), "\(error.reason)")
        }
    }

    /// x 1×1×4×4 → Conv 2×3×3 pad 1 → `middle` → GlobalAveragePool → Flatten → y.
    private func model(_ dir: TemporaryDirectory, _ name: String, _ middle: (inout ModelBuilder) -> Void) throws -> String {
        var b = ModelBuilder(opset: 13)
        b.input("x", [1, 1, 4, 4])
        b.weight("w", [2, 1, 3, 3], (0..<18).map { Float($0) / 18 })
        b.node("Conv", ["x", "w"], ["c"], name: "conv", ints: ["pads": [1, 1, 1, 1]])
        middle(&b)
        b.node("GlobalAveragePool", ["m"], ["g"], name: "gap")
        b.node("Flatten", ["g"], ["y"], name: "flat")
        b.output("y")
        return try b.save(in: dir, as: name)
    }

    private func refusal(_ path: String) -> String {
        do {
            _ = try OnnxFile.read(path).trainableGraph(inputShape: [1, 1, 4, 4])
            return "accepted"
        } catch {
            return error.reason
        }
    }

    @Test("odd forms are refused with the node named: an empty Dropout ratio, a Softmax inside the graph")
    func oddForms() throws {
        let dir = TemporaryDirectory()
        let dropout = try model(dir, "dropout.onnx") { b in
            b.weight("r", [0], [])
            b.node("Dropout", ["c", "r"], ["m"], name: "drop")
        }
        #expect(refusal(dropout).contains("Dropout at node \"drop\": the ratio must be one number"), "\(refusal(dropout))")
        let softmax = try model(dir, "softmax.onnx") { b in b.node("Softmax", ["c"], ["m"], name: "soft", ints: [:]) }
        #expect(refusal(softmax).contains("Softmax at node \"soft\": no convd layer"), "\(refusal(softmax))")
        let plain = try model(dir, "plain.onnx") { b in b.node("Relu", ["c"], ["m"], name: "relu") }
        let graph = try OnnxFile.read(plain).trainableGraph(inputShape: [1, 1, 4, 4])
        #expect(graph.nodes.map(\.name) == ["conv", "relu", "gap", "flat"])
        #expect(graph.nodes.map(\.spec.kind) == ["conv2d", "relu", "global_avgpool", "flatten"])
    }
}
