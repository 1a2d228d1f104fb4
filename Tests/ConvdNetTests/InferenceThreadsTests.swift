// Network.infer and its layer path: the batch split over threads (one network copy per run) gives the
// single-threaded forward pass's logits for every batch size and thread count, keeps its
// copies, and follows the weights when they change.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("inference over threads")
struct InferenceThreadsTests {
    private static let architectures: [[LayerSpec]] = [
        Preset.fmnistSmall.specs,
        [.conv2d(filters: 6, size: 3, stride: 1, padding: 1, dilation: 1, bias: true),
         .batchnorm(momentum: 0.9, epsilon: 1e-5), .relu, .maxpool(size: 2, stride: 2), .dropout(rate: 0.5),
         .dense(units: 10)],
    ]

    @Test("infer equals forward on one thread for batches of 1 to 64 and 1 to 3 threads; a batch smaller than the threads splits rows, bit for bit")
    func equalsSingleThreaded() throws {
        var generator = SeededGenerator(seed: 31)
        for specs in Self.architectures {
            let network = try Network(input: Preset.input, specs: specs, seed: 4)
            for batch in [1, 3, 4, 17, 64] {
                let data = (0..<(batch * 784)).map { _ in Float.random(in: 0...1, using: &generator) }
                let input = BatchTensor(channels: 1, batch: batch, height: 28, width: 28, data: data)
                var context = LayerContext(training: false, threads: 1)
                context.blockedConvolution = false
                let expected = network.forward(input, context: &context)
                for threads in [1, 2, 3] {
                    if batch < threads {
                        // The threads left over split one image's convolution rows: the same sums.
                        #expect(network.infer(input, threads: threads).data == network.infer(input, threads: 1).data)
                    }
                    for got in [network.infer(input, threads: threads), network.inferByLayers(input, threads: threads)] {
                        #expect(got.channels == expected.channels && got.batch == batch)
                        #expect(maxAbsDifference(got.data, expected.data) <= 1e-5, "batch \(batch), \(threads) threads")
                    }
                }
            }
            // Two runs need one copy, three runs two; they are kept, not rebuilt.
            #expect(network.inferenceReplicas.count == 2)
        }
    }

    @Test("the copies follow the network's weights when they change")
    func followsWeights() throws {
        let network = try Network(input: Preset.input, specs: Self.architectures[0], seed: 4)
        let input = BatchTensor(channels: 1, batch: 8, height: 28, width: 28,
                                data: (0..<(8 * 784)).map { Float($0 % 29) / 29 })
        _ = network.infer(input, threads: 2)
        _ = network.inferByLayers(input, threads: 2)
        for parameter in network.parameters { parameter.value = parameter.value.map { $0 * 0.5 } }
        var context = LayerContext(training: false, threads: 1)
        context.blockedConvolution = false
        let expected = network.forward(input, context: &context)
        #expect(maxAbsDifference(network.infer(input, threads: 2).data, expected.data) <= 1e-5)
        #expect(maxAbsDifference(network.inferByLayers(input, threads: 2).data, expected.data) <= 1e-5)
    }

    @Test("samples and joiningSamples cut and rejoin a C×N×H×W batch exactly")
    func cutAndJoin() {
        let batch = BatchTensor(channels: 2, batch: 5, height: 2, width: 3, data: (0..<60).map(Float.init))
        let parts = [batch.samples(0..<2), batch.samples(2..<3), batch.samples(3..<5)]
        #expect(parts[1].data == [12, 13, 14, 15, 16, 17, 42, 43, 44, 45, 46, 47])
        #expect(BatchTensor(joiningSamples: parts) == batch)
    }
}
