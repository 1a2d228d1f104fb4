// Whole models exported from PyTorch by scripts/onnx-fixtures.py (both exporters: the legacy
// TorchScript one at opset 17, and dynamo at opset 20 with its weights in model.onnx.data),
// with onnxruntime's outputs for two fixed inputs. convd's outputs must match within 1e-4 of
// the output's largest magnitude (random-weight ImageNet models give logits near 0, where a
// per-element relative bound means nothing) and give the same top-1 class.
// Tests/ConvdOnnxTests/Fixtures holds the small models; the large ones (ResNet-18,
// MobileNetV2, EfficientNet-B0) are checked when `make onnx-fixtures` has made them.
@testable import ConvdOnnx
import Foundation
import Testing

@Suite("Whole ONNX models against onnxruntime")
struct WholeModelTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let large = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Benchmarks/.cache/onnx").path

    static func folders(_ root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted().map { root + "/" + $0 }
            .filter { FileManager.default.fileExists(atPath: $0 + "/model.onnx") }
    }

    static let committed = ["fmnist-small-dynamo", "fmnist-small-legacy", "lenet5-dynamo", "lenet5-legacy",
                            "mobilenet_v3_small-legacy", "squeezenet1_1-dynamo", "squeezenet1_1-legacy",
                            "tinyrgb-dynamo-bn", "tinyrgb-legacy-bn"]

    @Test("the committed fixtures are all there")
    func fixturesPresent() {
        #expect(Self.folders(Self.fixtures).map { ($0 as NSString).lastPathComponent } == Self.committed)
    }

    @Test("matches onnxruntime", arguments: folders(fixtures) + folders(large))
    func matches(_ folder: String) throws {
        let graph = try OnnxImporter.load(folder + "/model.onnx")
        var i = 0
        while FileManager.default.fileExists(atPath: "\(folder)/input_\(i).pb") {
            let input = try OnnxTensor.read(protobuf: "\(folder)/input_\(i).pb").tensor
            let want = try OnnxTensor.read(protobuf: "\(folder)/output_\(i).pb").tensor
            let got = graph.run([input], threads: 2)[0]
            #expect(got.shape == want.shape)
            let scale = want.floats.map(abs).max() ?? 1
            let worst = zip(got.floats, want.floats).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * scale, "\(folder) input \(i): off by \(worst), largest output \(scale)")
            print("parity \((folder as NSString).lastPathComponent) input \(i): max |convd − onnxruntime| = \(worst), "
                  + "\(worst / scale) of the largest output")
            // Top-1 per image of the batch.
            let classes = want.shape.last ?? 1
            for row in 0..<(want.count / classes) {
                let slice = { (t: OnnxTensor) in Array(t.floats[(row * classes)..<((row + 1) * classes)]) }
                let a = slice(got), b = slice(want)
                #expect(a.indices.max { a[$0] < a[$1] } == b.indices.max { b[$0] < b[$1] }, "\(folder) input \(i) row \(row)")
            }
            i += 1
        }
        #expect(i >= 1)
    }
}
