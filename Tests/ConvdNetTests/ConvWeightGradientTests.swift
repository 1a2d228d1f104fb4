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
}
