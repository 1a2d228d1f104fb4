// The built `convd` binary run as a user runs it, on temporary folders: output names, shapes
// and values, errors, exit statuses and help text.
import ConvdCore
import ConvdImage
import ConvdSystem
import ConvdTestSupport
import Foundation
import Testing

private func lecturePNG() throws -> [UInt8] {
    let rows: [[UInt8]] = [[1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 0],
                           [1, 0, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0]]
    return try PNGCodec.encode(rows.flatMap { $0 }, width: 6, height: 6, channels: 1)
}

private func rgbPNG() throws -> [UInt8] {
    var generator = SeededGenerator(seed: 21)
    return try PNGFixture.random(width: 40, height: 30, colorType: .rgb, bitDepth: 8, using: &generator).encoded()
}

@Suite("convd filter, end to end")
struct FilterCommandTests {
    @Test("the lecture's 6×6 example through the binary: names, shape and exact values in the .npy")
    func lectureExample() throws {
        let dir = TemporaryDirectory()
        let input = try dir.write("six.png", try lecturePNG())
        let result = try ConvdBinary.run([
            "filter", input, "--scale", "raw", "-o", dir.file("out"), "--format", "png,montage,npy", "--name", "lecture",
            "--chain", "conv([[1,-1,-1],[-1,1,-1],[-1,-1,1]], [[-1,1,-1],[-1,1,-1],[-1,1,-1]]; padding=valid)",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(try dir.listing("out") == ["six.lecture.fm00.png", "six.lecture.fm01.png", "six.lecture.montage.png",
                                           "six.lecture.npy"])
        let maps = try NumPyFile.decode(FileIO.readAll(dir.file("out/six.lecture.npy")), path: "npy")
        #expect(maps.shape == TensorShape(channels: 2, height: 4, width: 4))
        #expect(maps.rows(channel: 0) == [[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]])
        #expect(maps.rows(channel: 1) == [[-1, -1, -1, -1], [-1, -1, -2, 1], [-1, -1, -2, 1], [-1, 0, -4, 3]])
        let fm = try PNGCodec.decodeFile(dir.file("out/six.lecture.fm00.png"), options: DecodeOptions(scale: .raw))
        #expect(fm.shape == TensorShape(channels: 1, height: 4, width: 4))
        #expect(fm[0, 0, 0] == 255 && fm[0, 0, 2] == 0, "min-max: 3 → 255, -3 → 0")
    }

    @Test("a .chain file names the outputs; RGB input values equal the library's")
    func chainFile() throws {
        let dir = TemporaryDirectory()
        let input = try dir.write("photo.png", try rgbPNG())
        let chainFile = try dir.write("edges.chain", Array("# Sobel edges\ngray |\n  conv(sobel-x, sobel-y) | magnitude\n".utf8))
        let result = try ConvdBinary.run(["filter", input, "--chain", chainFile, "-o", dir.file("out"), "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try dir.listing("out") == ["photo.edges.fm00.png", "photo.edges.npy"])
        let maps = try NumPyFile.decode(FileIO.readAll(dir.file("out/photo.edges.npy")), path: "npy")
        let image = try PNGCodec.decodeFile(input)
        let want = try FilterChain(parsing: "gray | conv(sobel-x, sobel-y) | magnitude").apply(image)
        #expect(maps == want)
    }

    @Test("a bad chain exits 2 naming the step, before any file is read")
    func badChain() throws {
        let dir = TemporaryDirectory()
        let result = try ConvdBinary.run(["filter", dir.file("missing.png"), "--chain", "gray | conv(sobel-q)",
                                          "-o", dir.file("out")])
        #expect(result.status == 2)
        #expect(result.stderr == "convd: step 2 \"conv(sobel-q)\": unknown kernel \"sobel-q\" (did you mean \"sobel-x\"?)\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
    }

    @Test("one corrupt file among good ones: one stderr line, exit 1, the others processed")
    func corruptAmongGood() throws {
        let dir = TemporaryDirectory()
        let good1 = try dir.write("a.png", try rgbPNG())
        let bad = try dir.write("b.png", Array(try rgbPNG().prefix(100)))
        let good2 = try dir.write("c d (1).png", try lecturePNG())
        let result = try ConvdBinary.run(["filter", good1, bad, good2, "--chain", "gray | sobel-x", "-o", dir.file("out")])
        #expect(result.status == 1)
        #expect(result.stderr == "\(bad): truncated (file ends before the image data does)\n")
        #expect(try dir.listing("out") == ["a.chain.fm00.png", "a.chain.npy", "c d (1).chain.fm00.png", "c d (1).chain.npy"])
    }

    @Test("a chain that does not fit an image fails that image only")
    func shapeFailure() throws {
        let dir = TemporaryDirectory()
        let small = try dir.write("small.png", try lecturePNG())
        let big = try dir.write("big.png", try rgbPNG())
        let result = try ConvdBinary.run(["filter", small, big, "--chain", "gray | maxpool(8)", "-o", dir.file("out")])
        #expect(result.status == 1)
        #expect(result.stderr == "\(small): step 2 \"maxpool(8)\": a 8×8 window does not fit a 6×6 input: the output "
                + "would be 0×0 (input 1×6×6)\n")
        #expect(try dir.listing("out") == ["big.chain.fm00.png", "big.chain.npy"])
    }

    @Test("--help and convd kernels say what the code does")
    func help() throws {
        let root = try ConvdBinary.run(["--help"])
        #expect(root.status == 0)
        #expect(root.stdout == """
            OVERVIEW: Watch folders and run convolution filter chains or CNN classifiers on
            every PNG.

            convd decodes PNGs (every colour type and bit depth) into float32 C×H×W
            tensors, runs a filter chain over them and writes the feature maps as PNG,
            montage and NumPy files; it trains, evaluates and applies CNN classifiers
            stored as safetensors models. As a daemon ('convd run'), it watches folders and
            does this to every PNG dropped into them.

            A chain is a list of steps separated by "|", e.g.
              gray | gaussian(5, 1.0) | conv(sobel-x, sobel-y; padding=same) | magnitude

            Run 'convd kernels' for the named kernels and 'convd filter --help' for every
            step.

            USAGE: convd <subcommand>

            OPTIONS:
              --version               Show the version.
              -h, --help              Show help information.

            SUBCOMMANDS:
              run                     Run the daemon: watch the configured folders and
                                      process every new PNG.
              check-config            Check a daemon config and print it with every default
                                      filled in.
              status                  Show what the daemon is doing: per-watch counts,
                                      modes and what is blocked.
              retry                   Process files again: failed ones (in a failed_dir or
                                      an input folder) or finished ones.
              log                     Print the classification log lines of every node, in
                                      sequence order, from the ledger.
              ledger                  Manage the ledger database.
              filter                  Run a filter chain over PNG files and write the
                                      feature maps.
              kernels                 List the named kernels with their matrices.
              train                   Train a CNN classifier and write it as a .safetensors
                                      model.
              eval                    Evaluate a model: accuracy, per-class
                                      precision/recall/F1, confusion matrix.
              classify                Classify PNG images with a trained model.
              inspect                 Show the layers, output shapes and parameter counts
                                      of a model or architecture.

              See 'convd help <subcommand>' for detailed help.

            """)
        let filter = try ConvdBinary.run(["filter", "--help"])
        #expect(filter.stdout.contains("photo.NAME.npy           exact float32 values, C×H×W (NumPy 1.0)"))
        #expect(filter.stdout.contains("USAGE: convd filter <inputs> ... --chain <chain> --output <output>"))
        let kernels = try ConvdBinary.run(["kernels"])
        #expect(kernels.stdout.contains("sobel-x  3×3  Sobel, horizontal gradient\n        -1       0       1\n"
                                        + "        -2       0       2\n"))
        #expect(try ConvdBinary.run(["--version"]).stdout == "convd 0.1.0\n")
    }

    @Test("bad options are refused with a usage error")
    func badOptions() throws {
        let dir = TemporaryDirectory()
        let formats = try ConvdBinary.run(["filter", "x.png", "--chain", "gray", "-o", dir.path, "--format", "jpg"])
        #expect(formats.status == 2)
        #expect(formats.stderr == "convd: unknown format \"jpg\" (formats: png, png16, npy, montage)\n")
        let threads = try ConvdBinary.run(["filter", "x.png", "--chain", "gray", "-o", dir.path, "--threads", "0"])
        #expect(threads.status != 0)
        #expect(threads.stderr.contains("--threads must be at least 1"))
    }
}
