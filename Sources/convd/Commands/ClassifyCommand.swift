// `convd classify`: the top-K labels of each image, and optionally each conv layer's
// activations as montages.
import ArgumentParser
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdPipeline
import ConvdSystem
import Foundation

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify PNG images with a trained model.",
        discussion: """
            One line per image: FILE: LABEL (PROBABILITY), then the runners-up. With --json,
            one JSON object per line with file, label, confidence and top ([[label, p], ...]).
            With --activations DIR, each conv layer's feature maps for each image are written
            as DIR/<stem>.layerN.conv2d.png montages (min-max per map). A file that cannot be
            read is reported on stderr as one line, the others are still classified, and the
            exit status is 1. "ms" is the time to decode and classify the image. Files over
            50,000,000 pixels or whose job would need more than --max-job-bytes are refused
            before they are decoded.
            """
    )

    @Option(help: "The model file (.safetensors).")
    var model: String

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
        let loaded: Model
        do {
            loaded = try ModelLoading.model(model)
            if let activations { try FileIO.makeDirectories(activations) }
        } catch {
            printError("convd: \(DisplayText.escaped("\(error)"))")
            throw ExitCode.failure
        }
        let pipeline = ImagePipeline(model: ModelFootprint(loaded), topK: top,
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

    private func writeActivations(_ model: Model, image: Tensor, path: String, folder: String) throws {
        var context = LayerContext(training: false)
        var x = BatchTensor(stacking: [model.input.prepare(image)])
        let renderer = FeatureMapRenderer()
        let name = Array((path.split(separator: "/").last ?? "").utf8)
        let stem = String(decoding: ImagePipeline.stem(ofName: name), as: UTF8.self)
        for (i, layer) in model.network.layers.enumerated() {
            x = layer.forward(x, context: &context)
            guard layer is Conv2DLayer else { continue }
            let maps = x.sample(0)
            try FileIO.writeAtomically(renderer.montage(maps),
                                       to: "\(folder)/\(stem).layer\(i).\(layer.spec.kind).png")
        }
    }
}
