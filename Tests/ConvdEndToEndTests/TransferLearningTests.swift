// Transfer learning through the binary: train a small network on one synthetic task (the
// orientation of a bar), then re-train only a new head on another (a plus against an X) with
// the backbone frozen. The frozen weights and statistics must come out bit-identical, and the
// new task must be learned from the old features alone.
import ConvdImage
@testable import ConvdNet
import ConvdTestSupport
import Foundation
import Testing

/// 16×16 gray images of bars on a noisy ground, drawn with a seeded generator.
private struct BarImages {
    var random = SeededGenerator(seed: 21)

    /// One image with the given strokes: "h", "v", "d" (↘) and "a" (↗), each at a random offset.
    mutating func image(_ strokes: [Character]) -> [UInt8] {
        var pixels = (0..<256).map { _ in UInt8.random(in: 0...40, using: &random) }
        func ink(_ x: Int, _ y: Int) {
            guard (0..<16).contains(x) && (0..<16).contains(y) else { return }
            pixels[y * 16 + x] = UInt8.random(in: 200...255, using: &random)
        }
        for stroke in strokes {
            let offset = Int.random(in: 3...12, using: &random), skew = Int.random(in: -4...4, using: &random)
            for t in 0..<16 {
                switch stroke {
                case "h": ink(t, offset); ink(t, offset + 1)
                case "v": ink(offset, t); ink(offset + 1, t)
                case "d": ink(t, t + skew); ink(t + 1, t + skew)
                default: ink(t, 15 - t + skew); ink(t + 1, 15 - t + skew)
                }
            }
        }
        return pixels
    }

    /// DIR/{train,test}/<class>/*.png with `count` training and `count / 2` test images per class.
    mutating func tree(_ dir: TemporaryDirectory, _ name: String, classes: [(String, [Character])], count: Int) throws {
        for (split, n) in [("train", count), ("test", count / 2)] {
            for (label, strokes) in classes {
                let folder = dir.file("\(name)/\(split)/\(label)")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for i in 0..<n {
                    let png = try PNGCodec.encode(image(strokes), width: 16, height: 16, channels: 1)
                    _ = try dir.write("\(name)/\(split)/\(label)/\(i).png", png)
                }
            }
        }
    }
}

private let architecture = """
    name = "bars"
    [input]
    width = 16
    height = 16
    channels = 1
    [[layer]]
    type = "conv2d"
    filters = 8
    size = 3
    padding = 1
    [[layer]]
    type = "batchnorm"
    [[layer]]
    type = "relu"
    [[layer]]
    type = "maxpool"
    size = 2
    [[layer]]
    type = "conv2d"
    filters = 16
    size = 3
    padding = 1
    [[layer]]
    name = "features"
    type = "relu"
    [[layer]]
    type = "global_avgpool"
    [[layer]]
    type = "dense"
    units = 4
    """

@Suite("transfer learning, end to end", .serialized)
struct TransferLearningTests {
    @Test("a new head on a frozen backbone learns a second task; the frozen weights stay bit-identical")
    func newHead() throws {
        let dir = TemporaryDirectory()
        var bars = BarImages()
        try bars.tree(dir, "orientation", classes: [("horizontal", ["h"]), ("vertical", ["v"]), ("falling", ["d"]),
                                                    ("rising", ["a"])], count: 60)
        try bars.tree(dir, "shape", classes: [("plus", ["h", "v"]), ("cross", ["d", "a"])], count: 60)
        let arch = try dir.write("bars.toml", Array(architecture.utf8))
        let first = dir.file("orientation.safetensors"), second = dir.file("shape.safetensors")
        let train = try ConvdBinary.run(["train", "--arch", arch, "--data", dir.file("orientation"), "--epochs", "12",
                                         "--batch", "16", "--lr", "0.01", "--val-split", "0", "-o", first])
        #expect(train.status == 0, "\(train.stderr)")

        let wrongHead = try ConvdBinary.run(["train", "--from", first, "--data", dir.file("shape"), "-o", second])
        #expect(wrongHead.status == 1)
        #expect(wrongHead.stderr.contains("the network has 4 outputs, the dataset \(dir.file("shape")) has 2 classes "
                                          + "(give --replace-head 2 for a new head)"), "\(wrongHead.stderr)")
        let badFreeze = try ConvdBinary.run(["train", "--from", first, "--freeze", "nope", "--replace-head", "2",
                                             "--data", dir.file("shape"), "-o", second])
        #expect(badFreeze.stderr == "convd: --freeze nope: no layer has that name or number (names: features)\n")

        let retrain = try ConvdBinary.run(["train", "--from", first, "--freeze", "features", "--replace-head", "2",
                                           "--data", dir.file("shape"), "--epochs", "30", "--batch", "16", "--lr", "0.02",
                                           "--val-split", "0", "-o", second])
        #expect(retrain.status == 0, "\(retrain.stderr)")
        #expect(retrain.stderr.contains("(1,298 parameters, 1,264 of them frozen)"), "\(retrain.stderr)")

        let before = try ModelFile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: first))), path: first)
        let after = try ModelFile.decode(Array(try Data(contentsOf: URL(fileURLWithPath: second))), path: second)
        // Layers 0–5 (convolutions, batch norm with its running statistics) are frozen.
        for (old, new) in zip(before.network.layers.prefix(6), after.network.layers.prefix(6)) {
            for (p, q) in zip(old.parameters, new.parameters) { #expect(p.value == q.value, "\(p.name) changed") }
            for (b, c) in zip(old.buffers, new.buffers) { #expect(b.value == c.value, "\(b.name) changed") }
        }
        #expect(before.network.parameters.map(\.value.count).prefix(6) == after.network.parameters.map(\.value.count).prefix(6))
        #expect(after.labels == ["cross", "plus"])
        #expect(after.provenance["from"] == first)
        #expect(after.provenance["frozen_through"] == "features")
        #expect(after.provenance["from_provenance"]?.contains("\"architecture\":\"bars\"") == true)
        let accuracy = try #require(after.provenance["test_accuracy"].flatMap(Double.init))
        #expect(accuracy > 0.9, "plus against cross from orientation features: \(accuracy)")
    }
}
