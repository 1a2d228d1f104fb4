// Trainer: mini-batch training with a validation split, reporting progress as values (the
// caller prints or draws them). Deterministic for a given seed and thread count: one seeded
// generator shuffles, augments and draws dropout masks, and OpenBLAS splits each GEMM the
// same way every run. Both cores are used through one pool of threads: each convolution's
// GEMMs are split by columns into single-threaded OpenBLAS calls (parallelGEMM), and the
// layers' own loops (im2col, col2im, pooling) are split over channels.
import ConvdCore

/// Everything a training run is configured with.
public struct TrainingOptions: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// Label smoothing ε of the loss (0: none).
    public var labelSmoothing: Float = 0
    public var schedule: LearningRateSchedule
    public var augmentation: Augmentation
    public var validationSplit: Double
    public var seed: UInt64
    public var threads: Int

    /// Options with the defaults of `convd train`.
    public init(epochs: Int = 10, batchSize: Int = 64, optimizer: OptimizerKind = .adam, learningRate: Float = 1e-3,
                momentum: Float = 0.9, weightDecay: Float = 0, schedule: LearningRateSchedule = .constant,
                augmentation: Augmentation = .none, validationSplit: Double = 0.1, seed: UInt64 = 1, threads: Int = 1) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
        self.augmentation = augmentation
        self.validationSplit = validationSplit
        self.seed = seed
        self.threads = threads
    }
}

/// Progress within an epoch.
public struct BatchProgress: Sendable {
    public let epoch: Int
    public let epochs: Int
    public let batch: Int
    public let batches: Int
    /// Mean loss so far this epoch.
    public let loss: Float
    /// Accuracy so far this epoch.
    public let accuracy: Double
    public let imagesPerSecond: Double
    /// Seconds left in the whole run, estimated.
    public let secondsLeft: Double
}

/// The summary of one epoch.
public struct EpochReport: Sendable, Equatable {
    public let epoch: Int
    public let learningRate: Float
    public let trainLoss: Float
    public let trainAccuracy: Double
    public let validationLoss: Float?
    public let validationAccuracy: Double?
    public let seconds: Double
}

/// Trains a network on a dataset.
public struct Trainer {
    public let options: TrainingOptions
    /// Monotonic seconds, injected so the library has no clock of its own.
    public let clock: () -> Double

    /// A trainer.
    public init(options: TrainingOptions, clock: @escaping () -> Double) {
        self.options = options
        self.clock = clock
    }

    /// Splits `data` into training and validation parts with the seeded shuffle.
    public func split(_ data: Dataset) -> (train: Dataset, validation: Dataset?) {
        var random = SplitMix64(seed: options.seed ^ 0x5EED)
        let order = Array(0..<data.count).shuffled(using: &random)
        let held = Int((Double(data.count) * options.validationSplit).rounded())
        guard held > 0 && held < data.count else { return (data, nil) }
        return (data.subset(Array(order[held...])), data.subset(Array(order[..<held])))
    }

    /// Runs every epoch on `data` (unit-scale samples, normalised by `input` as they are
    /// batched); `progress` hears about each batch and `epochDone` about each epoch.
    public func train(_ network: Network, on data: Dataset, input: InputSpec, progress: (BatchProgress) -> Void = { _ in },
                      epochDone: (EpochReport) -> Void = { _ in }) -> [EpochReport] {
        useSingleThreadedGEMM()  // the layers split their GEMMs over convd's own threads
        let (train, validation) = split(data)
        let optimizer = Optimizer(kind: options.optimizer, learningRate: options.learningRate,
                                  momentum: options.momentum, weightDecay: options.weightDecay)
        var random = SplitMix64(seed: options.seed)
        let cache = options.augmentation == .none ? FeatureCache(network, data: train, input: input, threads: options.threads)
            : nil
        var reports: [EpochReport] = []
        let batches = (train.count + options.batchSize - 1) / options.batchSize
        let started = clock()
        for epoch in 0..<options.epochs {
            let epochStart = clock()
            optimizer.learningRate = options.schedule.rate(base: options.learningRate, epoch: epoch, epochs: options.epochs)
            let order = Array(0..<train.count).shuffled(using: &random)
            var lossSum: Float = 0, correct = 0, seen = 0
            for b in 0..<batches {
                let indices = Array(order[(b * options.batchSize)..<min((b + 1) * options.batchSize, train.count)])
                let batch = cache?.batch(indices) ?? Self.batch(train, indices, input: input,
                                                                 augmentation: options.augmentation, random: &random)
                var context = LayerContext(training: true, threads: options.threads, seed: random.next())
                if options.schedule.changesPerBatch {
                    optimizer.learningRate = options.schedule.rate(base: options.learningRate,
                                                                   progress: Double(epoch) + Double(b) / Double(batches),
                                                                   epochs: options.epochs)
                }
                let logits = network.forward(batch, context: &context, after: cache?.boundary ?? -1)
                let labels = indices.map { train.labels[$0] }
                let result = SoftmaxCrossEntropy.loss(logits: logits, labels: labels, smoothing: options.labelSmoothing)
                network.backward(result.gradient, context: &context)
                optimizer.update(network.trainableParameters)
                lossSum += result.loss * Float(indices.count)
                correct += result.correct
                seen += indices.count
                let elapsed = clock() - started
                let done = Double(epoch * train.count + seen), total = Double(options.epochs * train.count)
                progress(BatchProgress(epoch: epoch + 1, epochs: options.epochs, batch: b + 1, batches: batches,
                                       loss: lossSum / Float(seen), accuracy: Double(correct) / Double(seen),
                                       imagesPerSecond: Double(seen) / max(clock() - epochStart, 1e-9),
                                       secondsLeft: elapsed / max(done, 1) * (total - done)))
            }
            var validationLoss: Float?, validationAccuracy: Double?
            if let validation {
                let (loss, evaluation) = Self.evaluate(network, on: validation, input: input, threads: options.threads)
                validationLoss = loss
                validationAccuracy = evaluation.accuracy
            }
            let report = EpochReport(epoch: epoch + 1, learningRate: optimizer.learningRate,
                                     trainLoss: lossSum / Float(max(seen, 1)),
                                     trainAccuracy: Double(correct) / Double(max(seen, 1)),
                                     validationLoss: validationLoss, validationAccuracy: validationAccuracy,
                                     seconds: clock() - epochStart)
            reports.append(report)
            epochDone(report)
        }
        return reports
    }

    /// Mean loss and the evaluation of `network` on `data` (inference mode).
    public static func evaluate(_ network: Network, on data: Dataset, input: InputSpec, threads: Int,
                                batchSize: Int = 500)
        -> (loss: Float, evaluation: Evaluation) {
        var predicted: [Int] = []
        var lossSum: Float = 0
        var random = SplitMix64(seed: 0)
        var start = 0
        while start < data.count {
            let indices = Array(start..<min(start + batchSize, data.count))
            let logits = network.infer(batch(data, indices, input: input, augmentation: .none, random: &random),
                                       threads: threads)
            let labels = indices.map { data.labels[$0] }
            lossSum += SoftmaxCrossEntropy.loss(logits: logits, labels: labels).loss * Float(indices.count)
            let n = indices.count
            for s in 0..<n {
                var best = 0
                for c in 1..<logits.channels where logits.data[c * n + s] > logits.data[best * n + s] { best = c }
                predicted.append(best)
            }
            start += batchSize
        }
        return (lossSum / Float(max(data.count, 1)),
                Evaluation(classNames: data.classNames, truth: data.labels, predicted: predicted))
    }

    /// Samples `indices` of `data`, augmented then normalised as `input` says, as a C×N×H×W batch.
    static func batch(_ data: Dataset, _ indices: [Int], input: InputSpec, augmentation: Augmentation,
                      random: inout SplitMix64) -> BatchTensor {
        let shape = data.shape, size = data.sampleSize, map = shape.height * shape.width, n = indices.count
        var out = BatchTensor(channels: shape.channels, batch: n, height: shape.height, width: shape.width)
        var sample = [Float](repeating: 0, count: size)
        for (s, i) in indices.enumerated() {
            let source = data.pixels[(i * size)..<((i + 1) * size)]
            if augmentation == .none {
                sample.replaceSubrange(0..<size, with: source)
            } else {
                augmentation.apply(source, shape: shape, into: &sample, at: 0, random: &random)
            }
            for c in 0..<shape.channels {
                let dst = (c * n + s) * map, mean = input.mean(c), inverseStd = 1 / input.std(c)
                for p in 0..<map { out.data[dst + p] = (sample[c * map + p] - mean) * inverseStd }
            }
        }
        return out
    }
}
