// `convd-bench sample WORKLOAD --key value ...`: ONE measured sample of one workload, as
// Benchmarks/compare.py alternates it with its Python anchor (Benchmarks/anchors/). Each prints
// one JSON line whose `seconds` is the sample: the median of `--reps` timed calls after one
// untimed warm-up call (`train` and `daemon`: one timed run after a shorter warm-up).
//
//   filter    --size 4096 --kernel 3|5|11 --threads 1|2 --output reused|fresh --reps 5
//   chain     --chain gaussian|sobel|text [--text CHAIN] --width 1920 --height 1080 --threads 1|2 --reps 5
//   png       --op encode|decode --image gray|rgb --size 2048 --level 1|6 --reps 5
//   infer     --model fmnist-small|lenet5|fashion --batch 1|256 --threads 1|2 --images N --reps 3
//   conv-layer --threads 1|2 --reps 21
//   onnx      --model DIR --threads 1|2 --reps 5   (DIR/model.onnx on DIR/input_0.pb, its batch)
//   train     --model fmnist-small|lenet5|fashion-resnet --batch 64 --threads 2 --images 60000
//   daemon    --files 2000 --images DIR --workdir DIR
//
// The inputs are made the same way as the anchors make theirs (see `patternImage`), so both
// sides work on the same pixels.
import ConvdConfig
import ConvdCore
import ConvdData
import ConvdImage
import ConvdNet
import ConvdOnnx
import Foundation

struct SampleArguments {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        var rest = arguments
        while let key = rest.popFirst() {
            guard key.hasPrefix("--"), let value = rest.popFirst() else {
                fail("expected --key value, got \(key)")
            }
            values[String(key.dropFirst(2))] = value
        }
    }

    func string(_ key: String, _ fallback: String) -> String { values[key] ?? fallback }

    func int(_ key: String, _ fallback: Int) -> Int {
        guard let text = values[key] else { return fallback }
        guard let value = Int(text) else { fail("--\(key) wants an integer, got \(text)") }
        return value
    }
}

private func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("convd-bench sample: \(message)\n".utf8))
    exit(2)
}

private func medianOf(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

/// One untimed warm-up call, then `reps` timed calls: their times in seconds.
private func timedReps(_ reps: Int, _ body: () -> Void) -> [Double] {
    body()
    return (0..<max(1, reps)).map { _ in
        let start = nowMilliseconds()
        body()
        return (nowMilliseconds() - start) / 1000
    }
}

private func emit(_ workload: String, _ fields: [(String, String)], seconds: [Double]) {
    let median = medianOf(seconds)
    report([("side", quoted("convd")), ("workload", quoted(workload))] + fields + [
        ("seconds", format6(median)), ("reps", String(seconds.count)),
        ("samples", "[" + seconds.map(format6).joined(separator: ",") + "]"),
    ], (0, 0, 0), timed: false)
}

private func format6(_ v: Double) -> String { String(format: "%.6f", v) }

/// Uniform floats in 0..<1 from SplitMix64 (fast: no system call per value).
private func uniformFloats(_ count: Int, seed: UInt64, scale: Float = 1, offset: Float = 0) -> [Float] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { _ in Float(random.next() >> 40) / Float(1 << 24) * scale + offset }
}

/// The benchmark picture, interleaved H×W×C bytes: smooth ramps and a wave with a little
/// deterministic noise, so it compresses like a photograph. anchors/common.py `pattern_image`
/// computes the same bytes.
func patternImage(width: Int, height: Int, channels: Int) -> [UInt8] {
    var samples = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            let wave = Int(40 * sin(Double(x + 3 * y) / 50))
            for c in 0..<channels {
                let noise = ((x &* 73_856_093) ^ (y &* 19_349_663) ^ (c &* 83_492_791)) % 13
                let smooth = (x * (c + 1) + y * 2) / 16 + wave
                samples[(y * width + x) * channels + c] = UInt8(truncatingIfNeeded: smooth + noise)
            }
        }
    }
    return samples
}

/// The picture as a planar C×H×W float tensor in 0...1, as `convd filter` decodes a PNG.
private func patternTensor(width: Int, height: Int, channels: Int) -> Tensor {
    let bytes = patternImage(width: width, height: height, channels: channels)
    var scalars = [Float](repeating: 0, count: bytes.count)
    let plane = width * height
    for i in 0..<plane {
        for c in 0..<channels { scalars[c * plane + i] = Float(bytes[i * channels + c]) / 255 }
    }
    return Tensor(channels: channels, height: height, width: width, scalars: scalars)
}

func runSample(_ arguments: ArraySlice<String>) {
    guard let workload = arguments.first else {
        fail("usage: convd-bench sample filter|chain|png|infer|conv-layer|train|daemon --key value ...")
    }
    let options = SampleArguments(arguments.dropFirst())
    switch workload {
    case "filter": sampleFilter(options)
    case "chain": sampleChain(options)
    case "png": samplePNG(options)
    case "infer": sampleInfer(options)
    case "conv-layer": sampleConvLayer(options)
    case "onnx": sampleOnnx(options)
    case "train": sampleTrain(options)
    case "daemon": sampleDaemon(options)
    default: fail("unknown workload \(workload)")
    }
}

/// Correlation of a size² float32 image with one k×k kernel, zero padding `same`, into a
/// reused output (as cv::filter2D(src, dst) in a loop) or a fresh one per call.
private func sampleFilter(_ options: SampleArguments) {
    let size = options.int("size", 4096), k = options.int("kernel", 3), threads = options.int("threads", 1)
    let output = options.string("output", "reused"), reps = options.int("reps", 5)
    guard output == "reused" || output == "fresh" else { fail("--output reused|fresh") }
    let image = Tensor(channels: 1, height: size, width: size, scalars: uniformFloats(size * size, seed: 1))
    let kernel = Kernel(height: k, width: k, weights: uniformFloats(k * k, seed: 2, scale: 2, offset: -1))
    let conv = Convolution(kernels: [kernel], padding: .same, border: .zero)
    var reused = conv.apply(image, threads: threads)
    let seconds = output == "reused"
        ? timedReps(reps) { conv.apply(image, into: &reused, threads: threads) }
        : timedReps(reps) { _ = conv.apply(image, threads: threads) }
    emit("filter", [("size", String(size)), ("kernel", String(k)), ("threads", String(threads)),
                    ("output", quoted(output)), ("isa", quoted(directKernelInstructionSet))], seconds: seconds)
}

/// A width×height RGB picture (decoded, 0...1) through a filter chain.
private func sampleChain(_ options: SampleArguments) {
    let name = options.string("chain", "gaussian")
    let width = options.int("width", 1920), height = options.int("height", 1080)
    let threads = options.int("threads", 1), reps = options.int("reps", 5)
    let text: String
    switch name {
    case "gaussian": text = "gaussian(5, 1.0)"  // per channel: 3 maps
    case "sobel": text = "gray | conv(sobel-x, sobel-y) | magnitude"
    case "text": text = options.string("text", "identity")  // any chain, for convd alone
    default: fail("--chain gaussian|sobel|text --text CHAIN")
    }
    let chain: FilterChain
    do { chain = try FilterChain(parsing: text) } catch { fail("\(error)") }
    let image = patternTensor(width: width, height: height, channels: 3)
    let seconds = timedReps(reps) { _ = try? chain.apply(image, threads: threads) }
    emit("chain", [("chain", quoted(name)), ("text", quoted(text)), ("width", String(width)),
                   ("height", String(height)), ("threads", String(threads))], seconds: seconds)
}

/// PNG encode (interleaved 8-bit samples → bytes) or decode (bytes → the float tensor convd
/// works on) of a size² gray or RGB picture at zlib `level`.
private func samplePNG(_ options: SampleArguments) {
    let op = options.string("op", "encode"), image = options.string("image", "gray")
    let size = options.int("size", 2048), level = options.int("level", 6), reps = options.int("reps", 5)
    guard image == "gray" || image == "rgb" else { fail("--image gray|rgb") }
    let channels = image == "gray" ? 1 : 3
    let samples = patternImage(width: size, height: size, channels: channels)
    guard let png = try? PNGCodec.encode(samples, width: size, height: size, channels: channels, level: level) else {
        fail("encode failed")
    }
    let seconds: [Double]
    switch op {
    case "encode":
        seconds = timedReps(reps) { _ = try? PNGCodec.encode(samples, width: size, height: size, channels: channels,
                                                            level: level) }
    case "decode":
        seconds = timedReps(reps) { _ = try? PNGCodec.decode(png, path: "bench.png") }
    default: fail("--op encode|decode")
    }
    emit("png", [("op", quoted(op)), ("image", quoted(image)), ("size", String(size)), ("level", String(level)),
                 ("bytes", String(png.count))], seconds: seconds)
}

private func preset(_ options: SampleArguments) -> Preset {
    let name = options.string("model", "fmnist-small")
    guard let preset = Preset(rawValue: name) else { fail("--model fmnist-small|lenet5") }
    return preset
}

/// A preset, or `fashion-resnet`: samples/models/fashion-mnist-resnet.toml (a residual graph).
private func trainingNetwork(_ name: String) -> Network {
    if name == "fashion-resnet" {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples/models/fashion-mnist-resnet.toml").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let architecture = try? ArchitectureFile.parse(text, path: path),
              let network = try? Network(input: architecture.input, nodes: architecture.layers, seed: 1) else {
            fail("\(path): cannot build the architecture")
        }
        return network
    }
    guard let preset = Preset(rawValue: name), let network = try? Network(input: Preset.input, specs: preset.specs, seed: 1)
    else { fail("--model fmnist-small|lenet5|fashion-resnet") }
    return network
}

/// Class probabilities for `images` random 28×28 inputs at batch size `batch`, random weights.
private func sampleInfer(_ options: SampleArguments) {
    let name = options.string("model", "fmnist-small")
    let batch = options.int("batch", 1), threads = options.int("threads", 1)
    let count = options.int("images", batch == 1 ? 512 : 2048), reps = options.int("reps", 3)
    let network: Network
    if name == "fashion" {
        // The shipped model, as the daemon runs it (fashion.onnx on the anchor's side).
        let path = "\(repository)/samples/models/fashion-mnist.safetensors"
        guard let bytes = FileManager.default.contents(atPath: path),
              let model = try? ModelFile.decode([UInt8](bytes), path: path) else { fail("cannot load \(path)") }
        network = model.network
    } else {
        guard let built = try? Network(input: Preset.input, specs: preset(options).specs, seed: 1) else { fail("network") }
        network = built
    }
    let pixels = uniformFloats(count * 784, seed: 3, scale: 2, offset: -1)
    let images = (0..<count).map { i in
        Tensor(channels: 1, height: 28, width: 28, scalars: Array(pixels[(i * 784)..<((i + 1) * 784)]))
    }
    let seconds = timedReps(reps) { _ = network.predict(images, threads: threads, batchSize: batch) }
    emit("infer", [("model", quoted(name)), ("batch", String(batch)), ("threads", String(threads)),
                   ("images", String(count)),
                   ("images_per_s", format(Double(count) / max(medianOf(seconds), 1e-12)))], seconds: seconds)
}

/// One forward pass of an imported ONNX model (scripts/onnx-fixtures.py's folders) on the
/// folder's input_0.pb, whose batch is the model's; the anchor runs onnxruntime on the same.
private func sampleOnnx(_ options: SampleArguments) {
    let folder = options.string("model", "")
    let threads = options.int("threads", 1), reps = options.int("reps", 5)
    let graph: OnnxGraph, input: OnnxTensor
    do {
        graph = try OnnxImporter.load(folder + "/model.onnx")
        input = try OnnxTensor.read(protobuf: folder + "/input_0.pb").tensor
    } catch {
        fail("\(error)")
    }
    if options.int("profile", 0) > 0 {
        // Time per operator type over the reps (to stderr): where a model's time goes.
        var totals: [String: Double] = [:]
        for _ in 0..<reps {
            var last = monotonicSeconds()
            _ = graph.run([input], threads: threads) { row, _ in
                let now = monotonicSeconds()
                let key = options.int("profile", 0) > 1 ? "\(row.node) \(row.op) \(row.outputShape)"
                    : row.op + (row.fused.isEmpty ? "" : "+" + row.fused)
                totals[key, default: 0] += now - last
                last = now
            }
        }
        for (op, t) in totals.sorted(by: { $0.value > $1.value }) {
            FileHandle.standardError.write(Data("\(op): \(String(format: "%.2f", t / Double(reps) * 1000)) ms\n".utf8))
        }
    }
    let seconds = timedReps(reps) { _ = graph.run([input], threads: threads) }
    let batch = input.shape.first ?? 1
    emit("onnx", [("model", quoted((folder as NSString).lastPathComponent)), ("batch", String(batch)),
                  ("threads", String(threads)),
                  ("images_per_s", format(Double(batch) / max(medianOf(seconds), 1e-12)))], seconds: seconds)
}

/// One 64→64 3×3 convolution layer (padding 1, bias) on a 64×56×56 input, batch 1, forward.
private func sampleConvLayer(_ options: SampleArguments) {
    let threads = options.int("threads", 1), reps = options.int("reps", 21)
    guard let network = try? Network(input: SampleShape(channels: 64, height: 56, width: 56), specs: [
        .conv2d(filters: 64, size: 3, stride: 1, padding: 1, dilation: 1, bias: true), .globalAvgpool]) else {
        fail("network")
    }
    let x = BatchTensor(channels: 64, batch: 1, height: 56, width: 56,
                        data: uniformFloats(64 * 56 * 56, seed: 4, scale: 2, offset: -1))
    var context = LayerContext(training: false, threads: threads)
    let seconds = timedReps(reps) { _ = network.layers[0].forward(x, context: &context) }
    emit("conv_layer", [("shape", quoted("64x56x56->64, 3x3")), ("threads", String(threads))], seconds: seconds)
}

/// One training epoch (Adam, lr 1e-3, no augmentation, no validation split) over the first
/// `images` Fashion-MNIST training images, after a 10-batch warm-up epoch.
private func sampleTrain(_ options: SampleArguments) {
    let name = options.string("model", "fmnist-small")
    let batch = options.int("batch", 64), threads = options.int("threads", 2)
    let count = options.int("images", 60_000)
    let folder = options.string("data", "/usr/share/datasets/fashion-mnist")
    guard let data = try? DatasetLoader.load(folder, split: .train, shape: Preset.input, limit: count) else {
        fail("Fashion-MNIST not found in \(folder) (apt-get install dataset-fashion-mnist)")
    }
    let stats = data.statistics()
    let input = InputSpec(width: 28, height: 28, channels: 1, mean: stats.mean, std: stats.std)
    let network = trainingNetwork(name)
    let trainingOptions = TrainingOptions(epochs: 1, batchSize: batch, optimizer: .adam, learningRate: 1e-3,
                                          validationSplit: 0, seed: 1, threads: threads)
    let trainer = Trainer(options: trainingOptions, clock: { nowMilliseconds() / 1000 })
    _ = trainer.train(network, on: data.subset(Array(0..<min(data.count, 10 * batch))), input: input)
    let start = nowMilliseconds()
    let reports = trainer.train(network, on: data, input: input)
    let seconds = (nowMilliseconds() - start) / 1000
    emit("train", [("model", quoted(name)), ("batch", String(batch)), ("threads", String(threads)),
                   ("images", String(data.count)), ("train_loss", format(Double(reports.last?.trainLoss ?? 0))),
                   ("train_accuracy", format(reports.last?.trainAccuracy ?? 0))], seconds: [seconds])
}

/// The release `convd run` on fresh folders below `--workdir`: `--files` PNGs (from the
/// folder `--images`, else Fashion-MNIST test images encoded here) renamed into a
/// classification watch at once; seconds from the first rename to the last log line.
private func sampleDaemon(_ options: SampleArguments) {
    let files = options.int("files", 2000)
    let workdir = options.string("workdir", NSTemporaryDirectory())
    var images: [[UInt8]] = []
    do {
        if let folder = options.values["images"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".png") }
                .sorted()
            images = try names.prefix(files).map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\($0)"))) }
        } else {
            let test = try DatasetLoader.load("/usr/share/datasets/fashion-mnist", split: .test, shape: Preset.input,
                                              limit: files)
            images = try (0..<test.count).map { i in
                try PNGCodec.encode(test.pixels[(i * 784)..<((i + 1) * 784)].map { UInt8(($0 * 255).rounded()) },
                                    width: 28, height: 28, channels: 1, level: 6)
            }
        }
        let run = try runDaemonClassifyOnce(images: images, workdir: workdir)
        emit("daemon", [("files", String(images.count)), ("files_per_s", format(Double(images.count) / run.seconds)),
                        ("latency_p50_ms", format(run.p50)), ("latency_p99_ms", format(run.p99)),
                        ("peak_rss_mb", format(run.peakRSSMB))], seconds: [run.seconds])
    } catch {
        fail("daemon: \(error)")
    }
}

/// Seconds on the monotonic clock.
private func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
