// Training end to end in the library: a tiny run on synthetic bars whose loss must fall and
// accuracy must pass 95 %; determinism; the optimizers; evaluation metrics.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

/// Horizontal (class 0) or vertical (class 1) bars at random positions with noise, 8×8.
private func bars(count: Int, seed: UInt64) -> Dataset {
    var g = SeededGenerator(seed: seed)
    var pixels: [Float] = []
    var labels: [Int] = []
    for i in 0..<count {
        let label = i % 2
        var image = (0..<64).map { _ in Float.random(in: 0...0.3, using: &g) }
        let at = Int.random(in: 1...6, using: &g)
        for j in 0..<8 { image[label == 0 ? at * 8 + j : j * 8 + at] = Float.random(in: 0.7...1, using: &g) }
        pixels += image
        labels.append(label)
    }
    return Dataset(shape: SampleShape(channels: 1, height: 8, width: 8), pixels: pixels, labels: labels,
                   classNames: ["horizontal", "vertical"])
}

private let specs: [LayerSpec] = [
    .conv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: true), .relu,
    .maxpool(size: 2, stride: 2), .dense(units: 2),
]

@Suite("training")
struct TrainingTests {
    @Test("a tiny run on bars: loss falls and accuracy exceeds 95 % on held-out images", arguments: OptimizerKind.allCases)
    func tinyRun(optimizer: OptimizerKind) throws {
        let network = try Network(input: SampleShape(channels: 1, height: 8, width: 8), specs: specs, seed: 3)
        let input = InputSpec(width: 8, height: 8, channels: 1, mean: 0.3, std: 0.3)
        let options = TrainingOptions(epochs: 4, batchSize: 16, optimizer: optimizer,
                                      learningRate: optimizer == .adam ? 0.01 : 0.05, validationSplit: 0.2, seed: 5)
        var clock = 0.0
        let reports = Trainer(options: options, clock: { clock += 1; return clock })
            .train(network, on: bars(count: 400, seed: 1), input: input)
        #expect(reports.count == 4)
        #expect(reports[3].trainLoss < reports[0].trainLoss * 0.5)
        #expect((reports[3].validationAccuracy ?? 0) > 0.95)
        let test = Trainer.evaluate(network, on: bars(count: 200, seed: 2), input: input, threads: 1)
        #expect(test.evaluation.accuracy > 0.95)
    }

    @Test("the same seed and thread count give the same weights")
    func deterministic() throws {
        func run() throws -> [[Float]] {
            let network = try Network(input: SampleShape(channels: 1, height: 8, width: 8),
                                      specs: specs + [.dropout(rate: 0.2)].dropLast(0), seed: 9)
            let options = TrainingOptions(epochs: 1, batchSize: 8, augmentation: Augmentation(flip: true, maxShift: 2),
                                          seed: 11, threads: 2)
            _ = Trainer(options: options, clock: { 0 }).train(network, on: bars(count: 64, seed: 3),
                                                               input: InputSpec(width: 8, height: 8, channels: 1))
            return network.parameters.map(\.value)
        }
        #expect(try run() == run())
    }

    @Test("SGD with momentum: one step by hand")
    func sgdStep() {
        let p = Parameter(name: "w", shape: [2], value: [1, -1], decays: true)
        let sgd = Optimizer(kind: .sgd, learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        p.gradient = [0.2, 0.4]
        sgd.update([p])
        // g = grad + 0.5·w = [0.7, -0.1]; v = g; w -= 0.1·v
        #expect(p.value == [1 - 0.07, -1 + 0.01])
        #expect(p.gradient == [0, 0])
        p.gradient = [0, 0]
        sgd.update([p])
        // g = 0.5·w = [0.465, -0.495]; v = 0.9·[0.7, -0.1] + g = [1.095, -0.585]
        #expect(abs(p.value[0] - (0.93 - 0.1095)) < 1e-6 && abs(p.value[1] - (-0.99 + 0.0585)) < 1e-6)
    }

    @Test("Adam's first step moves each weight by the learning rate against its gradient's sign")
    func adamStep() {
        let p = Parameter(name: "w", shape: [3], value: [0, 0, 0], decays: false)
        let adam = Optimizer(kind: .adam, learningRate: 0.01)
        p.gradient = [3, -0.5, 0]
        adam.update([p])
        #expect(abs(p.value[0] + 0.01) < 1e-6 && abs(p.value[1] - 0.01) < 1e-6 && p.value[2] == 0)
    }

    @Test("learning-rate schedules")
    func schedules() {
        #expect(LearningRateSchedule.step(every: 2, factor: 0.5).rate(base: 1, epoch: 5, epochs: 10) == 0.25)
        #expect(LearningRateSchedule.cosine.rate(base: 1, epoch: 0, epochs: 10) == 1)
        #expect(abs(LearningRateSchedule.cosine.rate(base: 1, epoch: 5, epochs: 10) - 0.5) < 1e-6)
    }

    @Test("evaluation: accuracy, confusion matrix, precision, recall and F1")
    func evaluation() {
        let e = Evaluation(classNames: ["a", "b"], truth: [0, 0, 0, 1, 1], predicted: [0, 0, 1, 1, 0])
        #expect(e.confusion == [[2, 1], [1, 1]])
        #expect(e.accuracy == 0.6)
        let a = e.metrics(of: 0)
        #expect(a.precision == 2.0 / 3 && a.recall == 2.0 / 3 && abs(a.f1 - 2.0 / 3) < 1e-12 && a.support == 3)
    }

    @Test("augmentation: a flip mirrors, a shift moves and fills with zero")
    func augmentation() {
        let sample: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        var out = [Float](repeating: -1, count: 9)
        var seen = Set<[Float]>()
        var random = SplitMix64(seed: 1)
        for _ in 0..<200 {
            Augmentation(flip: true, maxShift: 1).apply(sample[...], shape: SampleShape(channels: 1, height: 3, width: 3),
                                                         into: &out, at: 0, random: &random)
            seen.insert(out)
        }
        #expect(seen.contains([3, 2, 1, 6, 5, 4, 9, 8, 7]), "mirrored")
        #expect(seen.contains([0, 0, 0, 1, 2, 3, 4, 5, 6]), "shifted down by one")
        #expect(seen.count == 18, "2 flips × 9 shifts")
    }
}
