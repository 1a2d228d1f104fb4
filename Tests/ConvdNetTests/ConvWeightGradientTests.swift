// Conv2DLayer's weight gradient on the blocked kernel (Conv2DLayer+WeightGradient.swift) gives
// the GEMM reference's ∂W = ∂Y · colsᵀ: channel counts below, at and past a block of 16,
// filter counts that leave a partial tile (9 or more, so the forward pass runs blocked too),
// strides 1 and 2, padding, dilation, 1×1 kernels, batches smaller and larger than the thread
// count, and gradients that add to what is there.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("convolution weight gradient")
struct ConvWeightGradientTests {
    @Test("blocked ∂W equals ∂Y · colsᵀ", arguments: [(8, 9), (16, 16), (17, 20), (33, 35)])
    func blockedEqualsGEMM(channels: Int, filters: Int) {
        var generator = SeededGenerator(seed: 47)
        let shape = SampleShape(channels: channels, height: 9, width: 11)
        for (size, stride, padding, dilation) in [(3, 1, 1, 1), (3, 2, 1, 1), (5, 1, 2, 1), (3, 1, 2, 2),
                                                  (1, 2, 0, 1), (2, 1, 0, 1), (3, 2, 0, 1)] {
            var initializer = WeightInitializer(seed: 5)
            let spec = LayerSpec.conv2d(filters: filters, size: size, stride: stride, padding: padding,
                                        dilation: dilation, bias: true)
            let layer = Conv2DLayer(index: 0, spec: spec, input: shape, initializer: &initializer)
            #expect(layer.weightGradientRunsBlocked && layer.trainingForwardRunsBlocked)
            let out = layer.outputShape
            for (batch, threads) in [(1, 2), (3, 2), (4, 1)] {
                let x = BatchTensor(channels: channels, batch: batch, height: 9, width: 11,
                                    data: (0..<(channels * batch * 99)).map { _ in Float.random(in: -1...1, using: &generator) })
                let dy = BatchTensor(channels: filters, batch: batch, height: out.height, width: out.width,
                                     data: (0..<(filters * batch * out.height * out.width)).map { _ in
                                         Float.random(in: -1...1, using: &generator)
                                     })
                // Both start from the same gradient, which they must add to.
                let start = (0..<layer.weight.gradient.count).map { _ in Float.random(in: -1...1, using: &generator) }
                var context = LayerContext(training: true, threads: threads)
                context.blockedConvolution = false
                layer.weight.gradient = start
                _ = layer.forward(x, context: &context)
                _ = layer.backward(dy, context: &context)
                let expected = layer.weight.gradient
                context.blockedConvolution = true
                layer.weight.gradient = start
                _ = layer.forward(x, context: &context)
                _ = layer.backward(dy, context: &context)
                let scale = max(1, expected.map(abs).max() ?? 1)
                #expect(maxAbsDifference(layer.weight.gradient, expected) <= 2e-5 * scale,
                        "\(channels)→\(filters) size \(size) s\(stride) p\(padding) d\(dilation) batch \(batch) t\(threads)")
            }
        }
    }

    @Test("few input channels keep the GEMM weight gradient, few filters the GEMM forward pass")
    func fewChannels() {
        var initializer = WeightInitializer(seed: 5)
        for (channels, blocked) in [(1, false), (3, false), (7, false), (8, true), (17, true)] {
            let layer = Conv2DLayer(index: 0, spec: .conv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: false),
                                    input: SampleShape(channels: channels, height: 5, width: 5), initializer: &initializer)
            #expect(layer.weightGradientRunsBlocked == blocked, "\(channels) channels")
        }
        for (filters, blocked) in [(6, false), (7, false), (8, true), (17, true)] {
            let layer = Conv2DLayer(index: 0, spec: .conv2d(filters: filters, size: 3, stride: 1, padding: 1, dilation: 1, bias: false),
                                    input: SampleShape(channels: 16, height: 5, width: 5), initializer: &initializer)
            #expect(layer.trainingForwardRunsBlocked == blocked, "\(filters) filters")
        }
    }

    @Test("∂W from the forward pass's kept staged inputs: batches that shrink and grow, an inference pass in between, strided rows left unstaged")
    func keptStagedInputs() {
        var generator = SeededGenerator(seed: 53)
        // Height 10 with a strided 1×1 kernel: the forward pass stages rows 0–8 only (row 9 is
        // read by no output), and the weight gradient must read the same rows.
        let shape = SampleShape(channels: 32, height: 10, width: 7)
        for (size, stride, padding) in [(1, 2, 0), (3, 2, 1), (3, 1, 1)] {
            var initializer = WeightInitializer(seed: 9)
            let layer = Conv2DLayer(index: 0, spec: .conv2d(filters: 16, size: size, stride: stride, padding: padding,
                                                            dilation: 1, bias: false),
                                    input: shape, initializer: &initializer)
            let out = layer.outputShape
            func random(_ channels: Int, _ batch: Int, _ h: Int, _ w: Int) -> BatchTensor {
                BatchTensor(channels: channels, batch: batch, height: h, width: w,
                            data: (0..<(channels * batch * h * w)).map { _ in Float.random(in: -1...1, using: &generator) })
            }
            for (round, batch) in [4, 3, 4, 1].enumerated() {
                let x = random(32, batch, 10, 7), dy = random(16, batch, out.height, out.width)
                var context = LayerContext(training: true, threads: 2)
                context.blockedConvolution = false
                layer.weight.gradient = [Float](repeating: 0, count: layer.weight.gradient.count)
                _ = layer.forward(x, context: &context)
                _ = layer.backward(dy, context: &context)
                let expected = layer.weight.gradient
                context.blockedConvolution = true
                layer.weight.gradient = [Float](repeating: 0, count: layer.weight.gradient.count)
                _ = layer.forward(x, context: &context)
                #expect(layer.stagedInputs.samples == (batch >= 2 ? batch : 0))
                if round == 2 {
                    // An inference pass (of another batch) between forward and backward: the
                    // gradient stages the kept input itself.
                    var inference = LayerContext(training: false, threads: 2)
                    _ = layer.forward(random(32, 5, 10, 7), context: &inference)
                    #expect(layer.stagedInputs.samples == 0)
                }
                _ = layer.backward(dy, context: &context)
                let scale = max(1, expected.map(abs).max() ?? 1)
                #expect(maxAbsDifference(layer.weight.gradient, expected) <= 2e-5 * scale,
                        "size \(size) s\(stride) p\(padding) round \(round) batch \(batch)")
            }
        }
    }
}
