// Conv2DLayer's data gradient: the blocked forward kernel on flipped weights (stride 1) gives
// the GEMM + col2im reference's ∂X, and the default backward (which picks one per layer)
// gives the reference's gradients, for channel
// counts that are not multiples of 16, padding from 0 to the kernel's span, dilation, batch
// sizes below and above the thread count.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("convolution data gradient")
struct ConvInputGradientTests {
    @Test("blocked ∂X equals Wᵀ·∂Y folded back", arguments: [(1, 4), (3, 17), (17, 20), (33, 16)])
    func blockedEqualsFold(channels: Int, filters: Int) {
        var generator = SeededGenerator(seed: 31)
        let shape = SampleShape(channels: channels, height: 9, width: 12)
        for (size, padding, dilation) in [(3, 1, 1), (3, 0, 1), (5, 2, 1), (3, 2, 2), (1, 0, 1), (2, 1, 1)] {
            var initializer = WeightInitializer(seed: 9)
            let spec = LayerSpec.conv2d(filters: filters, size: size, stride: 1, padding: padding, dilation: dilation,
                                        bias: true)
            let layer = Conv2DLayer(index: 0, spec: spec, input: shape, initializer: &initializer)
            #expect(layer.inputGradientCanRunBlocked)
            for (batch, threads) in [(1, 2), (3, 2), (5, 1)] {
                let x = BatchTensor(channels: channels, batch: batch, height: 9, width: 12,
                                    data: (0..<(channels * batch * 108)).map { _ in Float.random(in: -1...1, using: &generator) })
                let out = layer.outputShape
                let dy = BatchTensor(channels: filters, batch: batch, height: out.height, width: out.width,
                                     data: (0..<(filters * batch * out.height * out.width)).map { _ in
                                         Float.random(in: -1...1, using: &generator)
                                     })
                // The reference: the GEMM path.
                layer.weight.zeroGradient()
                var context = LayerContext(training: true, threads: threads)
                context.blockedConvolution = false
                _ = layer.forward(x, context: &context)
                let expected = layer.backward(dy, context: &context), expectedWeights = layer.weight.gradient
                let scale = max(1, expected.data.map(abs).max() ?? 1)
                let blocked = layer.blockedInputGradient(dy, threads: threads)
                #expect(blocked.batch == batch && blocked.channels == channels && blocked.height == 9 && blocked.width == 12)
                #expect(maxAbsDifference(blocked.data, expected.data) <= 2e-5 * scale,
                        "\(channels)→\(filters) size \(size) p\(padding) d\(dilation) batch \(batch) t\(threads)")
                // The default backward, whichever path it picks, gives the same gradients.
                layer.weight.zeroGradient()
                context.blockedConvolution = true
                _ = layer.forward(x, context: &context)
                let chosen = layer.backward(dy, context: &context)
                #expect(maxAbsDifference(chosen.data, expected.data) <= 2e-5 * scale)
                let weightScale = max(1, expectedWeights.map(abs).max() ?? 1)
                #expect(maxAbsDifference(layer.weight.gradient, expectedWeights) <= 2e-5 * weightScale)
            }
        }
        // A padding beyond the kernel's span keeps the GEMM path.
        var initializer = WeightInitializer(seed: 9)
        let wide = Conv2DLayer(index: 0, spec: .conv2d(filters: 2, size: 3, stride: 1, padding: 3, dilation: 1, bias: true),
                               input: shape, initializer: &initializer)
        #expect(!wide.inputGradientCanRunBlocked)
        // LeNet-5's second layer keeps the GEMM form (the blocked one does 5× the work); fmnist-small's takes the kernel.
        for (preset, expected) in [(Preset.lenet5, false), (.fmnistSmall, true)] {
            let network = try? Network(input: Preset.input, specs: preset.specs, seed: 1)
            let second = network?.layers.compactMap { $0 as? Conv2DLayer }.last
            #expect(second?.inputGradientRunsBlocked == expected, "\(preset)")
        }
    }
}
