// BlockedConvWeights: a convolution layer's weights and bias in the order of CConvKernels'
// blocked kernel, [block][c][a][b][16 lanes] and [block][16], filters past K zero. A
// per-filter scale and shift (a batch normalisation folded in) apply on the way.

/// Packed weights of one convolution.
struct BlockedConvWeights {
    let weights: [Float]
    let bias: [Float]
    /// Blocks of 16 output channels.
    let blocks: Int

    /// Packs `conv`'s weights; output f becomes (conv_f · scale[f]) + shift[f].
    init(_ conv: Conv2DLayer, scale: [Float]? = nil, shift: [Float]? = nil) {
        let c = conv.inputShape.channels, k = conv.outputShape.channels, taps = conv.size * conv.size
        blocks = (k + 15) / 16
        var weights = [Float](repeating: 0, count: blocks * c * taps * 16)
        var bias = [Float](repeating: 0, count: blocks * 16)
        let w = conv.weight.value
        for f in 0..<k {
            let (block, lane) = (f / 16, f % 16), factor = scale?[f] ?? 1
            for ch in 0..<c {
                for t in 0..<taps {
                    weights[((block * c + ch) * taps + t) * 16 + lane] = w[(f * c + ch) * taps + t] * factor
                }
            }
            bias[block * 16 + lane] = (conv.bias?.value[f] ?? 0) * factor + (shift?[f] ?? 0)
        }
        self.weights = weights
        self.bias = bias
    }
}
