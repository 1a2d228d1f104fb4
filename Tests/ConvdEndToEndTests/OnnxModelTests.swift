// ONNX models through the built binary: classify, inspect, eval and check-config, a model
// convd cannot run, and a daemon watch classifying colour and gray PNGs of several sizes with
// an ONNX model and the labels of its .toml.
import ConvdTestSupport
import Foundation
import Testing

@Suite("ONNX models, end to end", .serialized)
struct OnnxModelTests {
    static let fixtures = "\(DaemonFixtures.repository)/Tests/ConvdOnnxTests/Fixtures"

    /// The small colour model (legacy export, BatchNormalization kept) copied into `dir` as
    /// tiny.onnx, with a .toml: labels and the shorter-side rule.
    static func tinyModel(in dir: TemporaryDirectory) throws -> String {
        let path = try dir.write("tiny.onnx", try DaemonFixtures.sample("Tests/ConvdOnnxTests/Fixtures/tinyrgb-legacy-bn/model.onnx"))
        _ = try dir.write("tiny.onnx.toml", Array("""
            labels = ["apple", "banana", "cherry"]

            [input]
            mean = [0.485, 0.456, 0.406]
            std = [0.229, 0.224, 0.225]
            resize = "shorter_side"
            shorter_side = 36
            interpolation = "linear"
            """.utf8))
        return path
    }

    /// PNGs of several sizes and kinds: colour, gray, colour with alpha.
    static func images() throws -> [(String, [UInt8])] {
        var generator = SeededGenerator(seed: 7)
        return try [("square", 32, 32, PNGFixture.ColorType.rgb), ("wide", 120, 40, .rgb), ("tall", 9, 300, .rgb),
                    ("gray", 50, 50, .gray), ("alpha", 64, 48, .rgba)].map { name, w, h, kind in
            (name, try PNGFixture.random(width: w, height: h, colorType: kind, bitDepth: 8, using: &generator).encoded())
        }
    }

    @Test("classify, inspect, activations and eval with ONNX models")
    func commands() throws {
        let dir = TemporaryDirectory()
        let model = try Self.tinyModel(in: dir)
        var paths: [String] = []
        for (name, bytes) in try Self.images() { paths.append(try dir.write("\(name).png", bytes)) }
        let classify = try ConvdBinary.run(["classify", "--model", model, "--json", "--top", "3",
                                            "--activations", dir.file("act")] + paths)
        #expect(classify.status == 0, "\(classify.stderr)")
        let lines = classify.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.count == paths.count)
        for line in lines {
            #expect(["apple", "banana", "cherry"].contains(line["label"] as? String ?? ""), "\(line)")
            let top = line["top"] as? [[Any]] ?? []
            let sum = top.compactMap { $0.last as? Double }.reduce(0, +)
            #expect(top.count == 3 && abs(sum - 1) < 1e-4, "probabilities over the 3 labels: \(line)")
        }
        // Five Conv nodes, the ReLU6 and ReLUs fused: one montage per Conv per image.
        let montages = try dir.listing("act")
        #expect(montages.count == 5 * paths.count)
        #expect(montages.contains { $0.hasPrefix("square.0.") && $0.hasSuffix(".conv.png") }, "\(montages)")

        let inspect = try ConvdBinary.run(["inspect", model])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("pytorch 2.13.0, IR 8, opset 17; 21 nodes in the file"))
        #expect(inspect.stdout.contains("Conv+clip 0.0…6.0"))
        #expect(inspect.stdout.contains("output output 1×3 (probabilities)"))
        #expect(inspect.stdout.contains("preprocessing: 32×32×3, nchw, rgb, scale 1/255, mean [0.485, 0.456, 0.406]"))
        #expect(inspect.stdout.contains("labels (3, from \(model).toml): apple, banana, cherry"))

        // A gray model on gray IDX images, through eval.
        let gray = "\(Self.fixtures)/fmnist-small-legacy/model.onnx"
        let idx = dir.file("idx")
        try FileManager.default.createDirectory(atPath: idx, withIntermediateDirectories: true)
        for (kind, header, size) in [("images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 28, 0, 0, 0, 28], 784),
                                     ("labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 20], 1)] {
            let body = (0..<(20 * size)).map { UInt8(size == 1 ? $0 % 10 : ($0 * 7) % 256) }
            _ = try dir.write("idx/t10k-\(kind)", header.map(UInt8.init) + body)
        }
        let eval = try ConvdBinary.run(["eval", "--model", gray, "--data", idx, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        #expect(report?["samples"] as? Int == 20)
        #expect((report?["labels"] as? [String]) == (0..<10).map(String.init))
    }

    @Test("a model with operators convd lacks is refused by every command with the list")
    func unsupported() throws {
        let nms = "/usr/share/libonnx-testdata/data/node/test_nonmaxsuppression_center_point_box_format/model.onnx"
        let dir = TemporaryDirectory()
        let image = try dir.write("a.png", try Self.images()[0].1)
        for arguments in [["classify", "--model", nms, image], ["inspect", nms]] {
            let result = try ConvdBinary.run(arguments)
            #expect(result.status == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("convd: \(nms): not supported: 1 operator — NonMaxSuppression (opset "),
                    "\(result.stderr)")
        }
        let cut = try dir.write("cut.onnx", Array(try DaemonFixtures.sample(
            "Tests/ConvdOnnxTests/Fixtures/lenet5-legacy/model.onnx").prefix(1000)))
        let truncated = try ConvdBinary.run(["classify", "--model", cut, image])
        #expect(truncated.status == 1)
        #expect(truncated.stderr.hasPrefix("convd: \(cut): not an ONNX model: the protobuf does not parse"),
                "\(truncated.stderr)")
    }

    @Test("a daemon watch classifies colour and gray PNGs of several sizes with an ONNX model")
    func daemon() throws {
        let d = try DaemonHarness(config: "")
        let model = try Self.tinyModel(in: d.root)
        try d.setConfig(DaemonFixtures.modelConfig(modelPath: model))
        let check = try ConvdBinary.run(["check-config", "--config", d.configPath])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("input 32×32×3, 3 labels, 575 parameters, top 3"), "\(check.stdout)")
        #expect(check.stdout.contains("ONNX: pytorch 2.13.0, IR 8, opset 17, 21 nodes; preprocessing 32×32×3"),
                "\(check.stdout)")
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        let images = try Self.images()
        for (name, bytes) in images { try d.drop("in/\(name).png", bytes) }
        #expect(DaemonHarness.poll { d.logLines().count >= images.count }, "\(d.stderr)")
        let lines = d.logLines()
        #expect(lines.count == images.count)
        for line in lines {
            #expect(line["outcome"] as? String == "ok", "\(line)")
            #expect(["apple", "banana", "cherry"].contains(line["label"] as? String ?? ""), "\(line)")
        }
        // The same labels as `convd classify` gives for the same files.
        let direct = try ConvdBinary.run(["classify", "--model", model, "--json"] + images.map { d.path("in/\($0.0).png") })
        let expected = Dictionary(uniqueKeysWithValues: direct.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]).map {
                ($0["file"] as? String ?? "", $0["label"] as? String ?? "")
            }
        })
        for line in lines {
            #expect(expected[line["file"] as? String ?? ""] == line["label"] as? String, "\(line) vs \(expected)")
        }
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
