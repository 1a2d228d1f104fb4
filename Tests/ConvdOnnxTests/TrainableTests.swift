// Imported graphs as convd layers (OnnxTrainable.swift): every committed fixture that convd's
// layers can express must give onnxruntime's outputs through the layers' own forward passes
// (the path training runs), and one that cannot names each node that stops it.
@testable import ConvdOnnx
import ConvdNet
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
}
