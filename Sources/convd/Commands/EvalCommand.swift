// `convd eval`: accuracy, per-class precision/recall/F1 and the confusion matrix of a model
// on a labelled dataset.
import ArgumentParser
import ConvdConfig
import ConvdCore
import ConvdData
import ConvdImage
import ConvdNet
import ConvdOnnx
import ConvdSystem
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a model: accuracy, per-class precision/recall/F1, confusion matrix.",
        discussion: """
            --data as for train; the test split (t10k-* or DIR/test/) is read unless --split says otherwise. \
            Images are resized to the model's input size as they are read (stretched, whatever \
            resize rule an ONNX model's .toml gives), then an ONNX model's channel order, scale, \
            mean and std are applied; the loss is the mean cross-entropy of the probabilities.
            """
    )

    @Option(help: "The model file: convd's .safetensors, or an ONNX .onnx.")
    var model: String

    @Option(name: .long, help: ArgumentHelp("An ONNX model's preprocessing and labels (default: MODEL.toml "
                                            + "beside the model, if present).", valueName: "toml"))
    var modelConfig: String?

    @Option(help: "Dataset folder (IDX files or class folders).")
    var data: String

    @Option(help: "train or test.")
    var split: DatasetSplit = .test

    @Option(help: "Use only the first N samples.")
    var limit: Int?

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print one JSON object with accuracy, per_class and confusion.")
    var json = false

    func run() throws {
        do {
            let loss: Float, evaluation: Evaluation
            if OnnxModelFile.isOnnx(model) {
                let onnx = try OnnxModelFile.load(model, config: modelConfig)
                let p = onnx.preprocessing
                let dataset = try DatasetLoader.load(data, split: split,
                                                     shape: SampleShape(channels: p.channels, height: p.height, width: p.width),
                                                     limit: limit, classNames: onnx.labels)
                (loss, evaluation) = onnx.evaluate(on: dataset, threads: threads ?? onlineCoreCount)
            } else {
                if modelConfig != nil { throw CommandError("--model-config: only ONNX models (.onnx) take a preprocessing .toml") }
                let loaded = try ModelLoading.model(model)
                let dataset = try DatasetLoader.load(data, split: split, shape: loaded.input.shape, limit: limit,
                                                     classNames: loaded.labels)
                (loss, evaluation) = Trainer.evaluate(loaded.network, on: dataset, input: loaded.input,
                                                      threads: threads ?? onlineCoreCount)
            }
            json ? printJSON(evaluation, loss: loss) : printTable(evaluation, loss: loss)
        } catch {
            printError("convd: \(error)")
            throw ExitCode.failure
        }
    }

    private func printJSON(_ e: Evaluation, loss: Float) {
        let perClass = e.classNames.indices.map { c -> [String: Any] in
            let m = e.metrics(of: c)
            return ["label": e.classNames[c], "precision": m.precision, "recall": m.recall, "f1": m.f1,
                    "support": m.support]
        }
        let object: [String: Any] = ["accuracy": e.accuracy, "loss": Double(loss), "samples": e.total,
                                     "correct": e.correct, "per_class": perClass, "confusion": e.confusion,
                                     "labels": e.classNames]
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            print(String(decoding: data, as: UTF8.self))
        }
    }

    private func printTable(_ e: Evaluation, loss: Float) {
        print("accuracy \(percent(e.accuracy)) (\(e.correct)/\(e.total)), loss \(String(format: "%.4f", loss))")
        print("")
        let nameWidth = max(12, (e.classNames.map(\.count).max() ?? 0) + 2)
        print(pad("class", nameWidth) + "precision  recall     f1         support")
        for c in e.classNames.indices {
            let m = e.metrics(of: c)
            print(pad(e.classNames[c], nameWidth) + [m.precision, m.recall, m.f1].map { pad(String(format: "%.4f", $0), 11) }
                .joined() + String(m.support))
        }
        print("")
        print("confusion matrix (rows: true class, columns: predicted, in the order above)")
        for (c, row) in e.confusion.enumerated() {
            print(pad(e.classNames[c], nameWidth) + row.map { leftPad(String($0), 6) }.joined())
        }
    }

    private func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(1, width - s.count)) }
    private func leftPad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(1, width - s.count)) + s }
}

extension DatasetSplit: ExpressibleByArgument {}
