// `convd train`: train a CNN on IDX files or a folder-per-class tree and write the model,
// its history (CSV) and learning curve (SVG).
import ArgumentParser
import ConvdConfig
import ConvdCore
import ConvdData
import ConvdImage
import ConvdNet
import ConvdSystem
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a CNN classifier and write it as a .safetensors model.",
        discussion: """
            --data is a folder of IDX files (train-images-idx3-ubyte[.gz], ...; Debian's
            dataset-fashion-mnist installs /usr/share/datasets/fashion-mnist) or a tree
            of PNGs, DIR/<label>/*.png (or DIR/train/<label>/*.png). Training reads the
            train split; a test split, when there is one, is evaluated at the end and
            its accuracy stored in the model's provenance.

            Beside the model, OUT.history.csv gets one row per epoch and OUT.curve.svg
            the learning curves. On a terminal a progress bar shows epoch, batch, loss,
            accuracy, images/s and the time left; otherwise one line per epoch.

            Transfer learning: --from MODEL starts from a trained model (its layers,
            weights and input normalisation) instead of --arch. --replace-head N puts a
            new dense layer of N outputs (the dataset's class count) in place of the
            model's last one; --freeze LAYER keeps every layer up to LAYER (a name from
            the architecture, or a number from `convd inspect`; for an ONNX model,
            `convd inspect --as-layers MODEL.onnx`) as it is: those
            layers run in inference mode and only the layers after them train. With no
            augmentation the frozen layers' outputs are computed once and cached. The
            new model's provenance keeps the source model's under "from_provenance".
            """
    )

    @Option(help: "Architecture: a preset (lenet5, fmnist-small) or a .toml file (or --from).")
    var arch: String?

    @Option(help: ArgumentHelp("Start from this trained model (.safetensors or .onnx) instead of --arch.",
                               valueName: "model"))
    var from: String?

    @Option(help: ArgumentHelp("With --from: freeze the layers up to and including this one (a name or a layer "
                               + "number from `convd inspect`).", valueName: "layer"))
    var freeze: String?

    @Option(name: .customLong("replace-head"),
            help: ArgumentHelp("With --from: replace the last dense layer by a new one with N outputs (the dataset's "
                               + "classes).", valueName: "N"))
    var replaceHead: Int?

    @Option(name: .customLong("model-config"),
            help: ArgumentHelp("With --from MODEL.onnx: its preprocessing and labels (default: MODEL.onnx.toml).",
                               valueName: "toml"))
    var modelConfig: String?

    @Option(help: "Dataset folder (IDX files or class folders).")
    var data: String

    @Option(name: .customLong("val-split"), help: "Fraction of the training data held out for validation.")
    var valSplit: Double = 0.1

    @Option(help: "Passes over the training data.")
    var epochs: Int = 10

    @Option(help: "Mini-batch size.")
    var batch: Int = 64

    @Option(help: "adam, adamw (Adam with decoupled weight decay) or sgd (with momentum).")
    var optimizer: OptimizerKind = .adam

    @Option(help: "Learning rate.")
    var lr: Float = 1e-3

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Option(name: .customLong("weight-decay"), help: "Weight decay on weights (not biases or batchnorm): L2 for sgd and adam, decoupled for adamw.")
    var weightDecay: Float = 0

    @Option(name: .customLong("label-smoothing"), help: "Label smoothing ε of the loss, in [0, 1) (0.1 is usual).")
    var labelSmoothing: Float = 0

    @Option(help: "Learning-rate schedule: constant, cosine, step:EPOCHS:FACTOR (e.g. step:5:0.5), or warmup-cosine:EPOCHS (a linear warm-up over EPOCHS, then cosine).")
    var schedule: String = "constant"

    @Option(help: "Augmentations: flip, shift (random shifts up to 2 px) or shift:N (up to N px), erase (random erasing), comma-separated.")
    var augment: String = ""

    @Option(help: "Random seed (weights, shuffling, augmentation, dropout).")
    var seed: UInt64 = 1

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Use only the first N training samples (quick trials).")
    var limit: Int?

    @Option(name: .shortAndLong, help: "The model file to write (.safetensors).")
    var output: String

    func validate() throws {
        guard (arch == nil) != (from == nil) else { throw ValidationError("give either --arch or --from, not both") }
        if from == nil && (freeze != nil || replaceHead != nil || modelConfig != nil) {
            throw ValidationError("--freeze, --replace-head and --model-config need --from MODEL")
        }
        if let replaceHead, replaceHead < 1 { throw ValidationError("--replace-head must be at least 1") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        guard (0..<1).contains(valSplit) else { throw ValidationError("--val-split must be in [0, 1)") }
        guard Augmentation.parse(augment) != nil else { throw ValidationError("--augment takes flip, shift or shift:N (N ≤ 8) and erase") }
        guard Self.parseSchedule(schedule) != nil else {
            throw ValidationError("--schedule must be constant, cosine, step:EPOCHS:FACTOR or warmup-cosine:EPOCHS")
        }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1)") }
        guard weightDecay >= 0 && weightDecay < 1 else { throw ValidationError("--weight-decay must be in [0, 1)") }
        guard output.hasSuffix(".safetensors") else { throw ValidationError("--output must end in .safetensors") }
    }

    static func parseSchedule(_ text: String) -> LearningRateSchedule? {
        if text == "constant" { return .constant }
        if text == "cosine" { return .cosine }
        let parts = text.split(separator: ":")
        if parts.count == 2, parts[0] == "warmup-cosine", let warmup = Int(parts[1]), warmup >= 0 {
            return .warmupCosine(warmup: warmup)
        }
        if parts.count == 3, parts[0] == "step", let every = Int(parts[1]), every > 0, let factor = Float(parts[2]) {
            return .step(every: every, factor: factor)
        }
        return nil
    }

    func run() throws {
        do {
            try train()
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("convd: \(error)")
            throw ExitCode.failure
        }
    }

    private func train() throws {
        let threads = threads ?? onlineCoreCount
        let (name, network, source) = try startingNetwork()
        let shape = network.inputShape
        let trainData = try DatasetLoader.load(data, split: .train, shape: shape, limit: limit)
        guard network.outputCount == trainData.classNames.count else {
            let hint = from != nil && replaceHead == nil ? " (give --replace-head \(trainData.classNames.count) for a new head)"
                : ""
            throw CommandError("\(from ?? arch ?? ""): the network has \(network.outputCount) outputs, the dataset \(data) "
                               + "has \(trainData.classNames.count) classes" + hint)
        }
        // A model's backbone expects the normalisation it was trained with.
        let input: InputSpec
        if let source {
            input = source.input
        } else {
            let stats = trainData.statistics()
            input = InputSpec(width: shape.width, height: shape.height, channels: shape.channels, mean: stats.mean,
                              std: stats.std)
        }
        var options = TrainingOptions(
            epochs: epochs, batchSize: batch, optimizer: optimizer, learningRate: lr, momentum: momentum,
            weightDecay: weightDecay, schedule: Self.parseSchedule(schedule) ?? .constant,
            augmentation: Augmentation.parse(augment) ?? .none, validationSplit: valSplit, seed: seed, threads: threads)
        options.labelSmoothing = labelSmoothing
        let trainer = Trainer(options: options, clock: monotonicSeconds)
        let display = ProgressDisplay()
        let held = Int((Double(trainData.count) * valSplit).rounded())
        let frozen = network.parameterCount - network.trainableParameters.reduce(0) { $0 + $1.value.count }
        printError("convd: training \(name) (\(grouped(network.parameterCount)) parameters"
                   + (frozen > 0 ? ", \(grouped(frozen)) of them frozen" : "") + ") on "
                   + "\(trainData.count - held) images from \(data)"
                   + (held > 0 ? " (\(held) more held out for validation)" : "") + ", \(threads) threads")
        let started = monotonicSeconds()
        let reports = trainer.train(network, on: trainData, input: input, progress: display.batch,
                                    epochDone: display.epoch)
        let seconds = monotonicSeconds() - started
        var provenance: [String: String] = [
            "dataset": data, "architecture": name, "epochs": String(epochs), "batch": String(batch),
            "optimizer": optimizer.rawValue, "lr": String(lr), "schedule": schedule, "augment": augment,
            "weight_decay": String(weightDecay), "label_smoothing": String(labelSmoothing),
            "seed": String(seed), "threads": String(threads), "train_samples": String(trainData.count),
            "training_seconds": String(Int(seconds)),
        ]
        if let last = reports.last?.validationAccuracy { provenance["validation_accuracy"] = String(last) }
        if let from, let source {
            provenance["from"] = from
            provenance["from_provenance"] = jsonText(source.provenance)
            if let freeze { provenance["frozen_through"] = freeze }
            if let replaceHead { provenance["replaced_head"] = String(replaceHead) }
        }
        if let test = try? DatasetLoader.load(data, split: .test, shape: shape, classNames: trainData.classNames),
           test.count > 0, !(data.hasSuffix("/train")) {
            let accuracy = Trainer.evaluate(network, on: test, input: input, threads: threads).evaluation.accuracy
            provenance["test_accuracy"] = String(accuracy)
            provenance["test_samples"] = String(test.count)
            printError("convd: test accuracy \(percent(accuracy)) on \(test.count) images")
        }
        let model = Model(network: network, input: input, labels: trainData.classNames, provenance: provenance)
        let stem = String(output.dropLast(".safetensors".count))
        try FileIO.writeAtomically(ModelFile.encode(model), to: output)
        try FileIO.writeAtomically(Array(TrainingHistory.csv(reports).utf8), to: stem + ".history.csv")
        try FileIO.writeAtomically(Array(TrainingHistory.svg(reports, title: "\(name) on \(data)").utf8),
                                   to: stem + ".curve.svg")
        printError("convd: wrote \(output), \(stem).history.csv and \(stem).curve.svg in \(Int(seconds)) s")
    }
}

extension TrainCommand {
    /// The network to train, its name, and the model it came from (with --from).
    private func startingNetwork() throws -> (String, Network, Model?) {
        guard let from else {
            let architecture = try ModelLoading.architecture(arch ?? "")
            return (architecture.name, try Network(input: architecture.input, nodes: architecture.layers, seed: seed), nil)
        }
        let source = try ModelLoading.trainableModel(from, config: modelConfig)
        let network = try TransferLearning.network(from: source.network, replaceHead: replaceHead, freeze: freeze,
                                                   seed: seed)
        let stem = from.split(separator: "/").last.map(String.init) ?? from
        return (stem, network, source)
    }

    /// `object` as one line of JSON.
    private func jsonText(_ object: [String: String]) -> String {
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

extension OptimizerKind: ExpressibleByArgument {}

/// "93.51%".
func percent(_ v: Double) -> String {
    String(format: "%.2f%%", v * 100)
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
