// Datasets from disk: IDX files gzipped or not, folder-per-class PNG trees with train/test
// subfolders, resizing and colour conversion, and the errors for broken inputs.
@testable import ConvdData
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdTestSupport
import Foundation
import Testing

/// Writes a tiny IDX pair (`count` images of h×w, labels i % classes) into `dir`.
func writeIDX(_ dir: TemporaryDirectory, prefix: String, count: Int, height: Int = 4, width: Int = 4,
              gzip: Bool) throws {
    func header(_ magic: UInt8, _ dims: [Int]) -> [UInt8] {
        [0, 0, 8, magic] + dims.flatMap { d in (0..<4).map { UInt8((d >> (24 - 8 * $0)) & 0xff) } }
    }
    let images = header(3, [count, height, width]) + (0..<(count * height * width)).map { UInt8($0 % 256) }
    let labels = header(1, [count]) + (0..<count).map { UInt8($0 % 3) }
    for (name, bytes) in [("\(prefix)-images-idx3-ubyte", images), ("\(prefix)-labels-idx1-ubyte", labels)] {
        let path = try dir.write(name, bytes)
        if gzip {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/gzip")
            process.arguments = ["-f", path]
            try process.run()
            process.waitUntilExit()
        }
    }
}

@Suite("datasets")
struct DatasetLoaderTests {
    @Test("IDX files, plain and gzipped, train and test splits, with labels.txt", arguments: [false, true])
    func idx(gzip: Bool) throws {
        let dir = TemporaryDirectory()
        try writeIDX(dir, prefix: "train", count: 5, gzip: gzip)
        try writeIDX(dir, prefix: "t10k", count: 2, gzip: gzip)
        try dir.write("labels.txt", Array("zero\none\ntwo\n".utf8))
        let shape = SampleShape(channels: 1, height: 4, width: 4)
        let train = try DatasetLoader.load(dir.path, split: .train, shape: shape)
        #expect(train.count == 5 && train.labels == [0, 1, 2, 0, 1] && train.classNames == ["zero", "one", "two"])
        #expect(Array(train.pixels.prefix(3)) == [0, Float(1) / 255, Float(2) / 255])
        let test = try DatasetLoader.load(dir.path, split: .test, shape: shape, limit: 1)
        #expect(test.count == 1)
        let resized = try DatasetLoader.load(dir.path, split: .train, shape: SampleShape(channels: 1, height: 2, width: 2))
        #expect(resized.sampleSize == 4)
        // Area averaging: the top-left 2×2 block of the first image is 0, 1, 4, 5.
        #expect(resized.pixels[0] == Float(0 + 1 + 4 + 5) / 4 / 255)
    }

    @Test("the installed Fashion-MNIST reads with its class names")
    func fashion() throws {
        let test = try DatasetLoader.load("/usr/share/datasets/fashion-mnist", split: .test, shape: Preset.input, limit: 10)
        #expect(test.count == 10 && test.classNames[9] == "Ankle boot" && test.labels[0] == 9)
    }

    @Test("folder-per-class trees, with train/ and test/ subfolders, colour to gray and resized")
    func folders() throws {
        let dir = TemporaryDirectory()
        var g = SeededGenerator(seed: 1)
        for split in ["train", "test"] {
            for label in ["cat", "dog"] {
                try FileManager.default.createDirectory(atPath: dir.file("\(split)/\(label)"), withIntermediateDirectories: true)
                for i in 0..<3 {
                    let png = try PNGFixture.random(width: 8, height: 6, colorType: .rgb, bitDepth: 8, using: &g).encoded()
                    try dir.write("\(split)/\(label)/\(i).png", png)
                }
            }
        }
        try dir.write("train/cat/notes.txt", Array("ignored".utf8))
        let train = try DatasetLoader.load(dir.path, split: .train, shape: SampleShape(channels: 1, height: 4, width: 4))
        #expect(train.count == 6 && train.classNames == ["cat", "dog"] && train.labels == [0, 1, 0, 1, 0, 1])
        let limited = try DatasetLoader.load(dir.path, split: .test, shape: SampleShape(channels: 1, height: 4, width: 4),
                                             limit: 2)
        #expect(limited.labels == [0, 1], "a limit keeps every class")
    }

    @Test("broken inputs are reported with the path")
    func errors() throws {
        let dir = TemporaryDirectory()
        #expect(throws: DatasetError(path: dir.file("none"), reason:
            "no such folder (give a folder of IDX files or of class folders)")) {
            try DatasetLoader.load(dir.file("none"), split: .train, shape: Preset.input)
        }
        #expect(throws: DatasetError(path: dir.path, reason: "no IDX files (train-images-idx3-ubyte...) and no class folders")) {
            try DatasetLoader.load(dir.path, split: .train, shape: Preset.input)
        }
        try dir.write("train-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2])
        try dir.write("train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 9])
        #expect(throws: DatasetError(path: dir.file("train-images-idx3-ubyte"), reason:
            "IDX data has 2 bytes, the header says 9×2×2 = 36")) {
            try DatasetLoader.load(dir.path, split: .train, shape: Preset.input)
        }
        try dir.write("train-images-idx3-ubyte", [0x1f, 0x8b, 8, 0, 1, 2, 3])
        #expect(throws: DatasetError(path: dir.file("train-images-idx3-ubyte"), reason: "corrupt or truncated gzip data")) {
            try DatasetLoader.load(dir.path, split: .train, shape: Preset.input)
        }
    }
}
