// `convd classify`: the top-K labels of each image, and optionally each conv layer's
// activations as montages.
import ArgumentParser
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdOnnx
import ConvdPipeline
import ConvdSystem
import Foundation

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify PNG images with a trained model.",
        discussion: """
            One line per image: FILE: LABEL (PROBABILITY), then the runners-up. With --json, \
            one JSON object per line with file, label, confidence and top ([[label, p], ...]). \
            With --activations DIR, each conv layer's feature maps for each image are written \
            as DIR/<stem>.layerN.conv2d.png montages (min-max per map); for an ONNX model, each \
            Conv node's output as DIR/<stem>.<N>.<node>.conv.png. An ONNX model is prepared as its \
            .toml says (size, channel order, scale, mean, std, resize rule, labels; see README). A file that cannot be \
            read is reported on stderr as one line, the others are still classified, and the \
            exit status is 1. "ms" is the time to decode and classify the image. Files over \
            50,000,000 pixels or whose job would need more than --max-job-bytes are refused \
            before they are decoded.
            """
    )

    @Option(help: "The model file: convd's .safetensors, or an ONNX .onnx.")
    var model: String

    @Option(name: .long, help: ArgumentHelp("An ONNX model's preprocessing and labels (default: MODEL.toml "
                                            + "beside the model, if present).", valueName: "toml"))
    var modelConfig: String?

    @Argument(help: "PNG files.")
    var inputs: [String]

    @Option(help: "How many labels to show per image.")
    var top: Int = 3

    @Flag(help: "JSON lines instead of text.")
    var json = false

    @Option(help: "Write each conv layer's activations as montage PNGs into this folder.")
    var activations: String?

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("The most memory one image's job may take, in bytes (default: the memory "
                                            + "this process may use, less a reserve).", valueName: "bytes"))
    var maxJobBytes: Int?

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxJobBytes, maxJobBytes < 1 { throw ValidationError("--max-job-bytes must be at least 1") }
    }

    func run() throws {
        let loaded: any ImageClassifier, footprint: ModelFootprint
        do {
            (loaded, footprint) = try ModelLoading.classifier(model, config: modelConfig)
            if let activations { try FileIO.makeDirectories(activations) }
        } catch {
            printError("convd: \(DisplayText.escaped("\(error)"))")
            throw ExitCode.failure
        }
        let pipeline = ImagePipeline(model: footprint, topK: top,
                                     maxJobBytes: maxJobBytes ?? MemoryBudget.defaultJobBytes(workers: 1),
                                     threads: threads ?? onlineCoreCount)
        var failures = 0
        for path in inputs {
            do {
                let bytes = try FileIO.readAll(path, limit: pipeline.decode.limits.maxFileBytes)
                let result = try pipeline.run(bytes, path: path, model: loaded)
                guard let classification = result.classification else { continue }
                print(json ? jsonLine(path, classification, ms: result.milliseconds) : textLine(path, classification))
                if let activations { try writeActivations(loaded, image: result.maps, path: path, folder: activations) }
            } catch {
                printError(DisplayText.escaped("\(error)"))
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    private func textLine(_ path: String, _ r: Classification) -> String {
        var line = "\(path): \(r.label) (\(String(format: "%.4f", r.confidence)))"
        if r.top.count > 1 {
            line += "; then " + r.top.dropFirst().map { "\($0.0) (\(String(format: "%.4f", $0.1)))" }
                .joined(separator: ", ")
        }
        return line
    }

    private func jsonLine(_ path: String, _ r: Classification, ms: Double) -> String {
        let object: [String: Any] = ["file": path, "label": r.label, "confidence": Double(r.confidence),
                                     "top": r.top.map { [$0.0, Double($0.1)] as [Any] },
                                     "ms": (ms * 1000).rounded() / 1000]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private func writeActivations(_ classifier: any ImageClassifier, image: Tensor, path: String, folder: String) throws {
        let name = Array((path.split(separator: "/").last ?? "").utf8)
        let stem = String(decoding: ImagePipeline.stem(ofName: name), as: UTF8.self)
        if let onnx = classifier as? OnnxClassifier {
            try writeActivations(onnx, image: image, stem: stem, folder: folder)
            return
        }
        guard let model = classifier as? Model else { return }
        var context = LayerContext(training: false)
        let renderer = FeatureMapRenderer()
        let layers = model.network.layers
        _ = try model.network.forward(BatchTensor(stacking: [model.input.prepare(image)]), context: &context) { i, x in
            guard layers[i] is Conv2DLayer || layers[i] is GroupedConv2DLayer else { return }
            try FileIO.writeAtomically(renderer.montage(x.sample(0)),
                                       to: "\(folder)/\(stem).layer\(i).\(layers[i].spec.kind).png")
        }
    }

    /// Each Conv node's output (one image, N×C×H×W) as a montage named after the node.
    private func writeActivations(_ onnx: OnnxClassifier, image: Tensor, stem: String, folder: String) throws {
        var maps: [(String, Tensor)] = []
        _ = onnx.graph.run([onnx.preprocessing.prepare(image)]) { row, value in
            guard row.op == "Conv", value.rank == 4 else { return }
            let (c, h, w) = (value.shape[1], value.shape[2], value.shape[3])
            maps.append((row.node, Tensor(channels: c, height: h, width: w, scalars: Array(value.floats[0..<(c * h * w)]))))
        }
        let renderer = FeatureMapRenderer()
        for (i, (node, tensor)) in maps.enumerated() {
            let safe = String(node.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(80))
            try FileIO.writeAtomically(renderer.montage(tensor), to: "\(folder)/\(stem).\(i).\(safe).conv.png")
        }
    }
}
