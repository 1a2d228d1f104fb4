// The CNN commands through the built binary: train one short epoch on a small IDX subset,
// then inspect, classify and eval with the model it wrote.
import ConvdImage
import ConvdTestSupport
import Foundation
import Testing

/// A folder with Fashion-MNIST's first 300 training and 100 test images as uncompressed IDX.
private func smallFashion(_ dir: TemporaryDirectory) throws -> String {
    try FileManager.default.createDirectory(atPath: dir.file("fashion"), withIntermediateDirectories: true)
    let source = "/usr/share/datasets/fashion-mnist"
    for (prefix, count) in [("train", 300), ("t10k", 100)] {
        for (kind, header, size) in [("images-idx3-ubyte", 16, 784), ("labels-idx1-ubyte", 8, 1)] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-dc", "\(source)/\(prefix)-\(kind).gz"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            var bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
            process.waitUntilExit()
            bytes = Array(bytes.prefix(header + count * size))
            bytes[4] = 0; bytes[5] = 0; bytes[6] = UInt8(count >> 8); bytes[7] = UInt8(count & 0xff)
            try dir.write("fashion/\(prefix)-\(kind)", bytes)
        }
    }
    return dir.file("fashion")
}

@Suite("CNN commands, end to end", .serialized)
struct ModelCommandTests {
    @Test("train → inspect → classify → eval on a small Fashion-MNIST subset")
    func workflow() throws {
        let dir = TemporaryDirectory()
        let data = try smallFashion(dir)
        let model = dir.file("m.safetensors")
        let train = try ConvdBinary.run(["train", "--arch", "fmnist-small", "--data", data, "--epochs", "1",
                                         "--batch", "32", "--seed", "3", "-o", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("epoch 1: loss "))
        #expect(train.stderr.contains("on 270 images from \(data) (30 more held out for validation)"))
        #expect(train.stderr.contains("test accuracy "))
        #expect(try dir.listing().contains("m.curve.svg"))
        let history = try String(contentsOfFile: dir.file("m.history.csv"), encoding: .utf8)
        #expect(history.hasPrefix("epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds\n1,0.001,"))

        let inspect = try ConvdBinary.run(["inspect", model, "--json"])
        #expect(inspect.status == 0)
        let summary = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect(summary?["total_params"] as? Int == 20_490)
        #expect((summary?["layers"] as? [Any])?.count == 8, "7 layers and the implicit flatten")

        let sneaker = try PNGCodec.encode([UInt8](repeating: 0, count: 28 * 28), width: 28, height: 28, channels: 1)
        let image = try dir.write("blank.png", sneaker)
        let bad = try dir.write("bad.png", Array("not a png".utf8))
        let classify = try ConvdBinary.run(["classify", "--model", model, image, bad, "--json", "--top", "2",
                                            "--activations", dir.file("act")])
        #expect(classify.status == 1)
        #expect(classify.stderr == "\(bad): not a PNG file (bad signature)\n")
        let line = try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as? [String: Any]
        #expect(line?["file"] as? String == image)
        #expect((line?["top"] as? [[Any]])?.count == 2)
        let confidence = try #require(line?["confidence"] as? Double)
        #expect(confidence > 0 && confidence <= 1)
        #expect(try dir.listing("act") == ["blank.layer0.conv2d.png", "blank.layer3.conv2d.png"])

        let eval = try ConvdBinary.run(["eval", "--model", model, "--data", data, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        #expect(report?["samples"] as? Int == 100)
        #expect((report?["confusion"] as? [[Int]])?.count == 10)
        #expect((report?["per_class"] as? [[String: Any]])?.first?["label"] as? String == "T-shirt/top")
        let text = try ConvdBinary.run(["eval", "--model", model, "--data", data])
        #expect(text.stdout.hasPrefix("accuracy "))
        #expect(text.stdout.contains("confusion matrix (rows: true class, columns: predicted"))
    }

    @Test("inspect prints the presets' tables; bad inputs are one-line errors")
    func inspectAndErrors() throws {
        let lenet = try ConvdBinary.run(["inspect", "lenet5"])
        #expect(lenet.stdout.contains("total parameters: 61,706"))
        #expect(lenet.stdout.contains("0    conv2d          6×5×5, pad 2              6×28×28     156\n"))
        let missing = try ConvdBinary.run(["inspect", "nonet"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "convd: nonet: neither a preset (lenet5, fmnist-small) nor an architecture .toml file\n")
        let dir = TemporaryDirectory()
        let fake = try dir.write("fake.safetensors", Array("12345678".utf8))
        let badModel = try ConvdBinary.run(["classify", "--model", fake, "x.png"])
        #expect(badModel.status == 1)
        #expect(badModel.stderr.hasPrefix("convd: \(fake): header length "))
        let badData = try ConvdBinary.run(["train", "--arch", "lenet5", "--data", dir.file("nope"), "-o", dir.file("m.safetensors")])
        #expect(badData.status == 1)
        #expect(badData.stderr.contains("nope: no such folder"))
    }

    @Test("the shipped residual architecture: inspect shows the graph, one epoch trains, eval reads the model")
    func residualRoundTrip() throws {
        let dir = TemporaryDirectory()
        let data = try smallFashion(dir)
        let arch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/models/fashion-mnist-resnet.toml").path
        let inspect = try ConvdBinary.run(["inspect", arch])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("total parameters: 485,994"))
        #expect(inspect.stdout.range(of: #"add\s+32×14×14\s+0\s+stem, block1_main\n"#, options: .regularExpression) != nil,
                "\(inspect.stdout)")
        let model = dir.file("r.safetensors")
        let train = try ConvdBinary.run(["train", "--arch", arch, "--data", data, "--epochs", "1", "--batch", "32",
                                         "--optimizer", "adamw", "--weight-decay", "0.05", "--label-smoothing", "0.1",
                                         "--schedule", "warmup-cosine:1", "-o", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("training fashion-resnet (485,994 parameters) on 270 images"))
        let json = try ConvdBinary.run(["inspect", model, "--json"])
        let summary = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let layers = try #require(summary?["layers"] as? [[String: Any]])
        #expect(layers[9]["type"] as? String == "add")
        #expect(layers[9]["inputs"] as? [Int] == [3, 8])
        #expect(layers[3]["name"] as? String == "stem")
        let eval = try ConvdBinary.run(["eval", "--model", model, "--data", data, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        #expect(report?["samples"] as? Int == 100)
        #expect((report?["confusion"] as? [[Int]])?.count == 10)
        // Activation maps walk the graph: every one of the 11 convolutions writes its montage.
        let image = try dir.write("blank.png", PNGCodec.encode([UInt8](repeating: 0, count: 28 * 28), width: 28,
                                                               height: 28, channels: 1))
        let classify = try ConvdBinary.run(["classify", "--model", model, image, "--activations", dir.file("act")])
        #expect(classify.status == 0, "\(classify.stderr)")
        let maps = try dir.listing("act")
        #expect(maps.count == 11)
        #expect(maps.contains("blank.layer16.conv2d.png"), "the projection shortcut of block 2")
    }

    @Test("transfer learning from an ONNX model: its graph becomes convd layers, frozen up to a layer number")
    func fromOnnx() throws {
        let dir = TemporaryDirectory()
        let data = try smallFashion(dir)
        let onnx = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ConvdOnnxTests/Fixtures/fmnist-small-legacy/model.onnx").path
        let layers = try ConvdBinary.run(["inspect", "--as-layers", onnx])
        #expect(layers.status == 0, "\(layers.stderr)")
        #expect(layers.stdout.contains("total parameters: 20,490"), "\(layers.stdout)")
        let model = dir.file("tuned.safetensors")
        // Layers 0–2 (conv, ReLU, pool) frozen: 160 of the 20,490 parameters.
        let train = try ConvdBinary.run(["train", "--from", onnx, "--freeze", "2", "--data", data, "--epochs", "1",
                                         "--batch", "32", "-o", model])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("(20,490 parameters, 160 of them frozen)"), "\(train.stderr)")
        let inspect = try ConvdBinary.run(["inspect", model, "--json"])
        let summary = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect(summary?["total_params"] as? Int == 20_490)
        let eval = try ConvdBinary.run(["eval", "--model", model, "--data", data])
        #expect(eval.status == 0, "\(eval.stderr)")
        let mobile = URL(fileURLWithPath: onnx).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("mobilenet_v3_small-legacy/model.onnx").path
        let refused = try ConvdBinary.run(["train", "--from", mobile, "--data", data, "-o", dir.file("no.safetensors")])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("convd: \(mobile): cannot train this graph as convd layers: "), "\(refused.stderr)")
    }
}
