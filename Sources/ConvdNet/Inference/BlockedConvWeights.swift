// BlockedConvWeights: convolution weights and bias in the order of CConvKernels' blocked
// kernel, [block][c][a][b][16 lanes] and [block][16], outputs past the last zero. From a
// layer (with a batch normalisation's per-filter scale and shift folded in on the way), or
// flipped: the weights that turn the forward kernel into the layer's data gradient.

/// Packed weights of one convolution (ConvdOnnx packs an imported Conv's the same way).
package struct BlockedConvWeights: Sendable {
    package let weights: [Float]
    package let bias: [Float]
    /// Blocks of 16 output channels.
    package let blocks: Int

    /// `outputs` filters over `channels` inputs and `taps` taps: weight (f, c, t) and bias f.
    package init(outputs: Int, channels: Int, taps: Int, weight: (Int, Int, Int) -> Float, bias: (Int) -> Float) {
        blocks = (outputs + 15) / 16
        var packed = [Float](repeating: 0, count: blocks * channels * taps * 16)
        var biases = [Float](repeating: 0, count: blocks * 16)
        for f in 0..<outputs {
            let (block, lane) = (f / 16, f % 16)
            for c in 0..<channels {
                for t in 0..<taps { packed[((block * channels + c) * taps + t) * 16 + lane] = weight(f, c, t) }
            }
            biases[block * 16 + lane] = bias(f)
        }
        weights = packed
        self.bias = biases
    }

    /// Packs `conv`'s weights; output f becomes (conv_f · scale[f]) + shift[f].
    init(_ conv: Conv2DLayer, scale: [Float]? = nil, shift: [Float]? = nil) {
        let c = conv.inputShape.channels, taps = conv.size * conv.size, w = conv.weight.value
        let b = conv.bias?.value
        self.init(outputs: conv.outputShape.channels, channels: c, taps: taps,
                  weight: { f, ch, t in w[(f * c + ch) * taps + t] * (scale?[f] ?? 1) },
                  bias: { f in (b?[f] ?? 0) * (scale?[f] ?? 1) + (shift?[f] ?? 0) })
    }

    /// The data gradient of `conv` (stride 1) as a forward convolution of ∂Y: output channel c,
    /// input channel k, tap (a, b) is the layer's weight (k, c, size−1−a, size−1−b); no bias.
    init(inputGradientOf conv: Conv2DLayer) {
        let c = conv.inputShape.channels, size = conv.size, taps = size * size, w = conv.weight.value
        self.init(outputs: c, channels: conv.outputShape.channels, taps: taps,
                  weight: { ch, k, t in w[(k * c + ch) * taps + (taps - 1 - t)] }, bias: { _ in 0 })
    }
}
