// CNNBench: `convd-bench cnn` — training seconds per epoch on the 60,000 Fashion-MNIST
// training images (fmnist-small and lenet5, batch 64, Adam, 2 threads), inference images/s at
// batch 1 and 256 on 1 and 2 threads, and one 64→64 3×3 convolution layer on 56×56 (batch 1).
import ConvdCore
import ConvdData
import ConvdNet

func runCNNBenchmarks(runs: Int) {
    let folder = "/usr/share/datasets/fashion-mnist"
    guard let train = try? DatasetLoader.load(folder, split: .train, shape: Preset.input),
          let test = try? DatasetLoader.load(folder, split: .test, shape: Preset.input) else {
        print("{\"error\":\"Fashion-MNIST not found in \(folder) (apt-get install dataset-fashion-mnist)\"}")
        return
    }
    let stats = train.statistics()
    let input = InputSpec(width: 28, height: 28, channels: 1, mean: stats.mean, std: stats.std)
    for preset in Preset.allCases {
        guard let network = try? Network(input: Preset.input, specs: preset.specs, seed: 1) else { continue }
        let options = TrainingOptions(epochs: runs, batchSize: 64, optimizer: .adam, learningRate: 1e-3,
                                      validationSplit: 0, seed: 1, threads: 2)
        let reports = Trainer(options: options, clock: { nowMilliseconds() / 1000 }).train(network, on: train, input: input)
        let seconds = reports.map(\.seconds).sorted()
        report([("bench", quoted("train_epoch")), ("model", quoted(preset.rawValue)), ("images", String(train.count)),
                ("batch", "64"), ("threads", "2"), ("s_median", format(seconds[seconds.count / 2])),
                ("s_min", format(seconds.first ?? 0)), ("s_max", format(seconds.last ?? 0)),
                ("test_accuracy", format(Trainer.evaluate(network, on: test, input: input, threads: 2).evaluation.accuracy))],
               (0, 0, 0), timed: false)
        let images = (0..<2048).map { i in
            Tensor(channels: 1, height: 28, width: 28,
                   scalars: Array(test.pixels[(i * 784)..<((i + 1) * 784)]).map { ($0 - stats.mean) / stats.std })
        }
        for threads in [1, 2] {
            for batch in [1, 256] {
                let count = batch == 1 ? 512 : 2048
                let t = measure(runs: max(3, runs)) {
                    _ = network.predict(Array(images.prefix(count)), threads: threads, batchSize: batch)
                }
                report([("bench", quoted("infer")), ("model", quoted(preset.rawValue)), ("batch", String(batch)),
                        ("threads", String(threads)), ("images_per_s", format(Double(count) / (t.median / 1000)))], t)
            }
        }
    }
    // One 64→64 3×3 layer, padding 1, on a 64×56×56 input, batch 1, forward only.
    guard let layerNet = try? Network(input: SampleShape(channels: 64, height: 56, width: 56), specs: [
        .conv2d(filters: 64, size: 3, stride: 1, padding: 1, dilation: 1, bias: true), .globalAvgpool]) else { return }
    var generator = SystemRandomNumberGenerator()
    let x = BatchTensor(channels: 64, batch: 1, height: 56, width: 56,
                        data: (0..<(64 * 56 * 56)).map { _ in Float.random(in: -1...1, using: &generator) })
    for threads in [1, 2] {
        var context = LayerContext(training: false, threads: threads)
        let t = measure(runs: 21) { _ = layerNet.layers[0].forward(x, context: &context) }
        report([("bench", quoted("conv_layer")), ("shape", quoted("64x56x56->64, 3x3")), ("threads", String(threads))], t)
    }
}
