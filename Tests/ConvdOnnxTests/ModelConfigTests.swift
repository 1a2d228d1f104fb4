// The `.toml` beside an ONNX model: preprocessing numbers, labels from each source, and one
// clear error for each kind of mistake.
import ConvdConfig
import ConvdCore
@testable import ConvdOnnx
import ConvdTestSupport
import Foundation
import Testing

@Suite("ONNX model .toml and preprocessing")
struct ModelConfigTests {
    static let tiny = WholeModelTests.fixtures + "/tinyrgb-legacy-bn/model.onnx"

    /// Copies the tiny RGB model into `dir` with `toml` beside it.
    static func model(in dir: TemporaryDirectory, toml: String?) throws -> String {
        let path = try dir.write("tiny.onnx", Array(try Data(contentsOf: URL(fileURLWithPath: tiny))))
        if let toml { _ = try dir.write("tiny.onnx.toml", Array(toml.utf8)) }
        return path
    }

    @Test("scale, mean, std and channel order, exactly")
    func prepareNumbers() {
        // A 1×2 RGB image: pixel 0 = (0.2, 0.4, 0.6), pixel 1 = (1, 0, 0.5).
        let image = Tensor(channels: 3, height: 1, width: 2, scalars: [0.2, 1, 0.4, 0, 0.6, 0.5])
        var p = Preprocessing(width: 2, height: 1, channels: 3)
        p.mean = [0.5, 0.25, 0]
        p.std = [0.5, 0.25, 2]
        let rgb = p.prepare(image)
        #expect(rgb.shape == [1, 3, 1, 2])
        let expected: [Float] = [(0.2 - 0.5) / 0.5, (1 - 0.5) / 0.5, (0.4 - 0.25) / 0.25, (0 - 0.25) / 0.25, 0.3, 0.25]
        for (a, b) in zip(rgb.floats, expected) { #expect(abs(a - b) < 1e-6) }
        p.bgr = true
        p.scale = 1
        p.mean = [0]
        p.std = [1]
        // BGR, 0…255: channel 0 is blue.
        #expect(p.prepare(image).floats.map { $0.rounded() } == [153, 128, 102, 0, 51, 255])
        p.layout = .nhwc
        #expect(p.prepare(image).shape == [1, 1, 2, 3])
        #expect(p.prepare(image).floats.map { $0.rounded() } == [153, 102, 51, 128, 0, 255])
    }

    @Test("shorter side then centre crop keeps the middle of a wide image")
    func shorterSideCrop() {
        // 2×6 gray: columns 0…5 hold their index.
        let image = Tensor(channels: 1, height: 2, width: 6, scalars: (0..<12).map { Float($0 % 6) / 255 })
        var p = Preprocessing(width: 2, height: 2, channels: 1)
        p.scale = 1
        p.resize = .shorterSide(2)
        p.interpolation = .nearest
        #expect(p.prepare(image).floats.map { $0.rounded() } == [2, 3, 2, 3])
    }

    @Test("labels from the .toml, from a labels file, from the model's metadata")
    func labels() throws {
        let dir = TemporaryDirectory()
        #expect(try OnnxModelFile.load(Self.model(in: dir, toml: nil)).labels == ["red", "green", "blue"])
        let inline = try OnnxModelFile.load(Self.model(in: dir, toml: "labels = [\"a\", \"b\", \"c\"]\n"))
        #expect(inline.labels == ["a", "b", "c"])
        _ = try dir.write("names.txt", Array("cat\ndog\nfox\n".utf8))
        let file = try OnnxModelFile.load(Self.model(in: dir, toml: "labels_file = \"names.txt\"\n"))
        #expect(file.labels == ["cat", "dog", "fox"])
        #expect(file.outputsProbabilities)
    }

    @Test("mistakes in the .toml are named, all at once")
    func mistakes() throws {
        let dir = TemporaryDirectory()
        let cases: [(String, [String])] = [
            ("labels = [\"a\"]\n", ["scores 3 classes", "gives 1 labels"]),
            ("[input]\ncolour = 3\nmean = [1, 2]\n", ["input.colour: unknown key"]),
            ("[input]\nmean = [0.1, 0.2]\n", ["mean has 2 values for a 3-channel input"]),
            ("[input]\nwidth = 64\n", ["is 1×3×32×32 but", "sets width = 64"]),
            ("[input]\nresize = \"shorter_side\"\nstd = [0]\n", ["input.shorter_side: missing", "input.std: every value"]),
            ("output = \"maybe\"\n", ["output: \"maybe\" is not one of logits, probabilities"]),
        ]
        for (toml, fragments) in cases {
            let path = try Self.model(in: dir, toml: toml)
            do {
                _ = try OnnxModelFile.load(path)
                Issue.record("accepted: \(toml)")
            } catch {
                for fragment in fragments {
                    #expect("\(error)".contains(fragment), "\(toml): \(error)")
                }
            }
        }
    }

    @Test("a dynamic size is taken from the .toml, or the error says which key to set")
    func dynamicSize() throws {
        var m = ModelBuilder()
        m.input("image", [nil, 3, nil, nil])
        m.node("GlobalAveragePool", ["image"], ["p"])
        m.node("Flatten", ["p"], ["y"])
        m.output("y")
        let dir = TemporaryDirectory()
        let path = try m.save(in: dir, as: "dyn.onnx")
        do {
            _ = try OnnxModelFile.load(path)
            Issue.record("a dynamic size was accepted")
        } catch {
            #expect("\(error)".contains("input \"image\" has a dynamic height (?×3×?×?); set height under [input] in "
                                        + path + ".toml"), "\(error)")
        }
        _ = try dir.write("dyn.onnx.toml", Array("[input]\nwidth = 20\nheight = 10\n".utf8))
        let model = try OnnxModelFile.load(path)
        #expect(model.graph.inputs[0].shape == [1, 3, 10, 20])
        // Mean colour of a uniform image, as probabilities of 3 "classes".
        let p = model.classify([Tensor(channels: 3, height: 4, width: 4, repeating: 0.5)], threads: 1)[0]
        #expect(p.count == 3 && abs(p.reduce(0, +) - 1) < 1e-6 && abs(p[0] - 1.0 / 3) < 1e-6)
    }
}
