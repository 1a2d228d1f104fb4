// DenseLayer: fully connected. Input D×N×1×1 (features × batch), weights U×D, bias U,
// output U×N×1×1: Y = W·X + b, one GEMM. Cached for backward: X.
// Backward: ∂W += ∂Y·Xᵀ, ∂b += Σₙ ∂Y, ∂X = Wᵀ·∂Y.
import ConvdCore

/// A fully connected layer.
public final class DenseLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public let outputShape: SampleShape
    /// U×D.
    public let weight: Parameter
    /// U.
    public let bias: Parameter
    private var cachedInput: [Float] = []
    private var cachedBatch = 0

    public var parameters: [Parameter] { [weight, bias] }

    init(index: Int, spec: LayerSpec, input: SampleShape, initializer: inout WeightInitializer) {
        guard case .dense(let units) = spec else { preconditionFailure("DenseLayer needs a dense spec") }
        precondition(input.height == 1 && input.width == 1, "dense input must be flattened")
        self.spec = spec
        inputShape = input
        outputShape = SampleShape(channels: units, height: 1, width: 1)
        weight = Parameter(name: "layers.\(index).weight", shape: [units, input.channels],
                           value: initializer.weights(count: units * input.channels, fanIn: input.channels,
                                                      fanOut: units), decays: true)
        bias = Parameter(name: "layers.\(index).bias", shape: [units], value: [Float](repeating: 0, count: units),
                         decays: false)
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = input.batch, units = outputShape.channels, d = inputShape.channels
        cachedInput = input.data
        cachedBatch = n
        var out = BatchTensor(channels: units, batch: n, height: 1, width: 1)
        for u in 0..<units { for s in 0..<n { out.data[u * n + s] = bias.value[u] } }
        gemm(m: units, n: n, k: d, a: weight.value, lda: d, b: input.data, ldb: n, beta: 1, c: &out.data, ldc: n)
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = cachedBatch, units = outputShape.channels, d = inputShape.channels
        gemm(transposeB: true, m: units, n: d, k: n, a: gradient.data, lda: n, b: cachedInput, ldb: n, beta: 1,
             c: &weight.gradient, ldc: d)
        for u in 0..<units {
            var sum: Float = 0
            for s in 0..<n { sum += gradient.data[u * n + s] }
            bias.gradient[u] += sum
        }
        guard context.inputGradient else { return BatchTensor(channels: d, batch: 0, height: 1, width: 1) }
        var dx = BatchTensor(channels: d, batch: n, height: 1, width: 1)
        gemm(transposeA: true, m: d, n: n, k: units, a: weight.value, lda: d, b: gradient.data, ldb: n,
             c: &dx.data, ldc: n)
        return dx
    }
}
