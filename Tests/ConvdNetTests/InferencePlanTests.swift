// InferencePlan: the blocked-channel kernels, with batch normalisation and ReLU folded in,
// give the layers' own forward pass (the plain reference loops) on random shapes — channel
// counts that are not multiples of 16, odd sizes, stride, dilation, padding, every pooling,
// batch sizes 1 to 17, one and two threads — and the networks that cannot be planned still run.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("inference plan")
struct InferencePlanTests {
    /// Architectures with every construct the plan covers, each with its input shape.
    private static let cases: [(SampleShape, [LayerSpec])] = [
        (SampleShape(channels: 1, height: 28, width: 28), Preset.fmnistSmall.specs),
        (SampleShape(channels: 1, height: 28, width: 28), Preset.lenet5.specs),
        // 17 and 33 filters: a partial block, three blocks (a pair and a single); stride and dilation.
        (SampleShape(channels: 3, height: 31, width: 29), [
            .conv2d(filters: 17, size: 3, stride: 2, padding: 1, dilation: 1, bias: true),
            .batchnorm(momentum: 0.9, epsilon: 1e-5), .relu,
            .conv2d(filters: 33, size: 3, stride: 1, padding: 2, dilation: 2, bias: false), .leakyRelu(slope: 0.1),
            .avgpool(size: 3, stride: 2), .dense(units: 7),
        ]),
        // Batch normalisation not after a convolution, sigmoid, tanh, global pooling, dropout.
        (SampleShape(channels: 2, height: 15, width: 17), [
            .batchnorm(momentum: 0.9, epsilon: 1e-3), .conv2d(filters: 5, size: 5, stride: 1, padding: 0, dilation: 1,
                                                             bias: true),
            .sigmoid, .maxpool(size: 3, stride: 1), .conv2d(filters: 20, size: 1, stride: 1, padding: 0, dilation: 1,
                                                           bias: true),
            .tanh, .globalAvgpool, .dropout(rate: 0.3), .dense(units: 9), .relu,
            .batchnorm(momentum: 0.9, epsilon: 1e-5), .dense(units: 4),
        ]),
        // At most 8 filters on the image planes: two pixels a vector. Three channels, dilation 2,
        // rows of 27 (tiles of 14 and 13: an odd pixel), then rows of 5; 7 and 8 filters.
        (SampleShape(channels: 3, height: 13, width: 27), [
            .conv2d(filters: 7, size: 3, stride: 1, padding: 2, dilation: 2, bias: true), .relu,
            .maxpool(size: 2, stride: 2), .dense(units: 5),
        ]),
        (SampleShape(channels: 1, height: 11, width: 5), [
            .conv2d(filters: 8, size: 3, stride: 1, padding: 1, dilation: 1, bias: true), .dense(units: 3),
        ]),
        // A pooling layer first, a wide row (several tiles), a dense stack with folded normalisation.
        (SampleShape(channels: 1, height: 9, width: 70), [
            .maxpool(size: 2, stride: 1), .conv2d(filters: 16, size: 3, stride: 1, padding: 1, dilation: 1, bias: true),
            .relu, .conv2d(filters: 32, size: 2, stride: 3, padding: 1, dilation: 1, bias: true), .flatten,
            .dense(units: 12), .batchnorm(momentum: 0.9, epsilon: 1e-5), .relu, .dense(units: 3),
        ]),
    ]

    @Test("the plan gives the layers' logits for random shapes, batches 1 to 17, 1 and 2 threads")
    func equalsLayers() throws {
        var generator = SplitMix64(seed: 77)
        for (index, (shape, specs)) in Self.cases.enumerated() {
            let network = try Network(input: shape, specs: specs, seed: UInt64(index + 3))
            // Batch statistics away from the defaults, so folding them is tested.
            for buffer in network.buffers {
                buffer.value = buffer.value.map { $0 + generator.nextUnit() * 0.5 }
            }
            for parameter in network.parameters where parameter.shape.count == 1 {
                parameter.value = parameter.value.map { _ in generator.nextUnit() - 0.3 }
            }
            #expect(network.currentPlan() != nil, "case \(index) has a plan")
            // Every case ends in dense layers (with ReLU, batch normalisation folded to an affine
            // step): runs of 4 images or more take them a chunk at a time (batches 5 and 17).
            #expect(network.currentPlan()?.denseTail != nil, "case \(index) has a dense tail")
            for batch in [1, 2, 5, 17] {
                let data = (0..<(batch * shape.channels * shape.height * shape.width)).map { _ in generator.nextUnit() * 2 - 1 }
                let input = BatchTensor(channels: shape.channels, batch: batch, height: shape.height,
                                        width: shape.width, data: data)
                var context = LayerContext(training: false, threads: 1)
                context.blockedConvolution = false
                let expected = network.forward(input, context: &context)
                let scale = max(1, expected.data.map(abs).max() ?? 1)
                for threads in [1, 2] {
                    let got = network.infer(input, threads: threads)
                    #expect(got.channels == expected.channels && got.batch == batch)
                    #expect(maxAbsDifference(got.data, expected.data) <= 2e-5 * scale,
                            "case \(index), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    @Test("the shipped model's architecture is planned, batch normalisation folded into its convolutions")
    func shippedArchitecture() throws {
        let specs: [LayerSpec] = [
            .conv2d(filters: 32, size: 3, stride: 1, padding: 1, dilation: 1, bias: false),
            .batchnorm(momentum: 0.1, epsilon: 1e-5), .relu, .maxpool(size: 2, stride: 2),
            .conv2d(filters: 64, size: 3, stride: 1, padding: 1, dilation: 1, bias: false),
            .batchnorm(momentum: 0.1, epsilon: 1e-5), .relu, .maxpool(size: 2, stride: 2), .dropout(rate: 0.2),
            .dense(units: 10),
        ]
        let network = try Network(input: Preset.input, specs: specs, seed: 2)
        let plan = try #require(network.currentPlan())
        let kinds = plan.steps.map { step -> String in
            switch step {
            case .conv(let c): return c.relu ? "conv+relu" : "conv"
            case .dense: return "dense"
            case .pool: return "pool"
            case .globalAverage: return "gap"
            case .activation: return "activation"
            case .affine: return "affine"
            }
        }
        #expect(kinds == ["conv+relu", "pool", "conv+relu", "pool", "dense"])
    }

    @Test("max pooling in the plan keeps Pooling's NaN rule: a NaN after a window's first sample is passed over")
    func poolingNaN() throws {
        for window in [2, 3] {
            let network = try Network(input: SampleShape(channels: 1, height: 6, width: 6), specs: [
                .maxpool(size: window, stride: window), .flatten, .dense(units: 3),
            ], seed: 4)
            // NaN in the second row of every window: never a window's first sample.
            var data = (0..<36).map { Float(($0 * 7) % 11) - 5 }
            for i in data.indices where (i / 6) % window == 1 { data[i] = i % 2 == 0 ? .nan : -0.0 }
            let input = BatchTensor(channels: 1, batch: 1, height: 6, width: 6, data: data)
            var context = LayerContext(training: false, threads: 1)
            context.blockedConvolution = false
            let expected = network.forward(input, context: &context).data
            let got = network.infer(input, threads: 1).data
            #expect(expected.allSatisfy { $0.isFinite })
            #expect(maxAbsDifference(got, expected) <= 1e-5, "window \(window)")
        }
    }

    @Test("the lanes past a map's channels hold 0, not 0·x: an infinite input a ReLU removes leaves the logits finite")
    func infiniteInput() throws {
        let network = try Network(input: SampleShape(channels: 1, height: 3, width: 3), specs: [
            .conv2d(filters: 3, size: 1, stride: 1, padding: 0, dilation: 1, bias: true), .relu, .flatten, .dense(units: 2),
        ], seed: 6)
        network.parameters[0].value = [0.5, 1, 2]
        let data: [Float] = [-.infinity, 1, 2, 3, -.infinity, 5, 6, 7, 8]
        let input = BatchTensor(channels: 1, batch: 1, height: 3, width: 3, data: data)
        var context = LayerContext(training: false, threads: 1)
        context.blockedConvolution = false
        let expected = network.forward(input, context: &context).data
        #expect(expected.allSatisfy { $0.isFinite })
        #expect(maxAbsDifference(network.infer(input, threads: 1).data, expected) <= 1e-4)
    }

    @Test("a weight change rebuilds the plan; an order it does not cover runs layer by layer")
    func rebuildAndFallback() throws {
        let network = try Network(input: Preset.input, specs: Preset.fmnistSmall.specs, seed: 5)
        let first = try #require(network.currentPlan())
        #expect(network.currentPlan() === first)
        network.parameters[0].value[0] += 1
        #expect(network.currentPlan() !== first)

        let shape = SampleShape(channels: 2, height: 3, width: 3)
        let odd = try Network(input: shape, specs: [
            .dense(units: 6), .conv2d(filters: 4, size: 1, stride: 1, padding: 0, dilation: 1, bias: true),
        ], seed: 1)
        #expect(odd.currentPlan() == nil)
        let input = BatchTensor(channels: 2, batch: 3, height: 3, width: 3, data: (0..<54).map { Float($0) / 54 })
        var context = LayerContext(training: false, threads: 1)
        context.blockedConvolution = false
        #expect(maxAbsDifference(odd.infer(input, threads: 2).data, odd.forward(input, context: &context).data) <= 1e-5)
    }
}
