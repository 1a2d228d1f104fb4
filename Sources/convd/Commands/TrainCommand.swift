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
            """
    )

    @Option(help: "Architecture: a preset (lenet5, fmnist-small) or a .toml file.")
    var arch: String

    @Option(help: "Dataset folder (IDX files or class folders).")
    var data: String

    @Option(name: .customLong("val-split"), help: "Fraction of the training data held out for validation.")
    var valSplit: Double = 0.1

    @Option(help: "Passes over the training data.")
    var epochs: Int = 10

    @Option(help: "Mini-batch size.")
    var batch: Int = 64

    @Option(help: "adam or sgd (with momentum).")
    var optimizer: OptimizerKind = .adam

    @Option(help: "Learning rate.")
    var lr: Float = 1e-3

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Option(name: .customLong("weight-decay"), help: "L2 weight decay on weights (not biases).")
    var weightDecay: Float = 0

    @Option(help: "Learning-rate schedule: constant, cosine, or step:EPOCHS:FACTOR (e.g. step:5:0.5).")
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
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard lr > 0 else { throw ValidationError("--lr must be positive") }
        guard (0..<1).contains(valSplit) else { throw ValidationError("--val-split must be in [0, 1)") }
        guard Augmentation.parse(augment) != nil else { throw ValidationError("--augment takes flip, shift or shift:N (N ≤ 8) and erase") }
        guard Self.parseSchedule(schedule) != nil else {
            throw ValidationError("--schedule must be constant, cosine or step:EPOCHS:FACTOR")
        }
        guard output.hasSuffix(".safetensors") else { throw ValidationError("--output must end in .safetensors") }
    }

    static func parseSchedule(_ text: String) -> LearningRateSchedule? {
        if text == "constant" { return .constant }
        if text == "cosine" { return .cosine }
        let parts = text.split(separator: ":")
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
        let architecture = try ModelLoading.architecture(arch)
        let threads = threads ?? onlineCoreCount
        let network = try Network(input: architecture.input, specs: architecture.layers, seed: seed)
        let trainData = try DatasetLoader.load(data, split: .train, shape: architecture.input, limit: limit)
        guard network.outputCount == trainData.classNames.count else {
            throw CommandError("\(arch): the network has \(network.outputCount) outputs, the dataset \(data) has "
                               + "\(trainData.classNames.count) classes")
        }
        let stats = trainData.statistics()
        let input = InputSpec(width: architecture.input.width, height: architecture.input.height,
                              channels: architecture.input.channels, mean: stats.mean, std: stats.std)
        let options = TrainingOptions(
            epochs: epochs, batchSize: batch, optimizer: optimizer, learningRate: lr, momentum: momentum,
            weightDecay: weightDecay, schedule: Self.parseSchedule(schedule) ?? .constant,
            augmentation: Augmentation.parse(augment) ?? .none, validationSplit: valSplit, seed: seed, threads: threads)
        let trainer = Trainer(options: options, clock: monotonicSeconds)
        let display = ProgressDisplay()
        let held = Int((Double(trainData.count) * valSplit).rounded())
        printError("convd: training \(architecture.name) (\(grouped(network.parameterCount)) parameters) on "
                   + "\(trainData.count - held) images from \(data)"
                   + (held > 0 ? " (\(held) more held out for validation)" : "") + ", \(threads) threads")
        let started = monotonicSeconds()
        let reports = trainer.train(network, on: trainData, input: input, progress: display.batch,
                                    epochDone: display.epoch)
        let seconds = monotonicSeconds() - started
        var provenance: [String: String] = [
            "dataset": data, "architecture": architecture.name, "epochs": String(epochs), "batch": String(batch),
            "optimizer": optimizer.rawValue, "lr": String(lr), "schedule": schedule, "augment": augment,
            "seed": String(seed), "threads": String(threads), "train_samples": String(trainData.count),
            "training_seconds": String(Int(seconds)),
        ]
        if let last = reports.last?.validationAccuracy { provenance["validation_accuracy"] = String(last) }
        if let test = try? DatasetLoader.load(data, split: .test, shape: architecture.input, classNames: trainData.classNames),
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
        try FileIO.writeAtomically(Array(TrainingHistory.svg(reports, title: "\(architecture.name) on \(data)").utf8),
                                   to: stem + ".curve.svg")
        printError("convd: wrote \(output), \(stem).history.csv and \(stem).curve.svg in \(Int(seconds)) s")
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
