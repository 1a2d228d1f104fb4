// BatchNormLayer: per-channel normalisation over the batch and the map (2-D after a conv,
// 1-D after a dense layer: the same code, as channels × (N·H·W) is contiguous per channel).
//   training:  x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β; running = (1 − m)·running + m·batch
//              (σ² unbiased for the running variance, as PyTorch does)
//   inference: x̂ uses the running mean and variance.
// Shapes unchanged; parameters γ, β (C each); buffers running mean and variance.
// Cached for backward: x̂ and 1/√(σ²_B + ε).
// Backward: ∂x = (1/M)·inv·(M·∂x̂ − Σ∂x̂ − x̂·Σ(∂x̂·x̂)) with ∂x̂ = ∂y·γ, M = N·H·W.
import ConvdCore

/// Batch normalisation.
public final class BatchNormLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public var outputShape: SampleShape { inputShape }
    /// γ, one per channel.
    public let scale: Parameter
    /// β, one per channel.
    public let shift: Parameter
    /// Running mean, for inference.
    public let runningMean: Buffer
    /// Running variance, for inference.
    public let runningVariance: Buffer
    let momentum: Float
    let epsilon: Float
    private var normalized: [Float] = []
    private var inverseStd: [Float] = []

    public var parameters: [Parameter] { [scale, shift] }
    public var buffers: [Buffer] { [runningMean, runningVariance] }

    init(index: Int, spec: LayerSpec, input: SampleShape) {
        guard case let .batchnorm(momentum, epsilon) = spec else {
            preconditionFailure("BatchNormLayer needs a batchnorm spec")
        }
        self.spec = spec
        self.momentum = momentum
        self.epsilon = epsilon
        inputShape = input
        let c = input.channels
        scale = Parameter(name: "layers.\(index).weight", shape: [c], value: [Float](repeating: 1, count: c), decays: false)
        shift = Parameter(name: "layers.\(index).bias", shape: [c], value: [Float](repeating: 0, count: c), decays: false)
        runningMean = Buffer(name: "layers.\(index).running_mean", value: [Float](repeating: 0, count: c))
        runningVariance = Buffer(name: "layers.\(index).running_var", value: [Float](repeating: 1, count: c))
    }

    /// Inference as y = x·scale + shift per channel: scale = γ/√(σ² + ε), shift = β − μ·scale
    /// (what the inference plan folds into the layer before).
    var inferenceAffine: (scale: [Float], shift: [Float]) {
        let factors = (0..<inputShape.channels).map { c in
            scale.value[c] / (runningVariance.value[c] + epsilon).squareRoot()
        }
        return (factors, (0..<inputShape.channels).map { c in shift.value[c] - runningMean.value[c] * factors[c] })
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let channels = input.channels, m = input.channelStride
        var out = input
        let training = context.training
        if training && normalized.count != input.data.count { normalized = [Float](repeating: 0, count: input.data.count) }
        if inverseStd.count != channels { inverseStd = [Float](repeating: 0, count: channels) }
        input.data.withUnsafeBufferPointer { xb in
            out.data.withUnsafeMutableBufferPointer { yb in
                normalized.withUnsafeMutableBufferPointer { nb in
                    for c in 0..<channels {
                        let x = xb.baseAddress! + c * m, y = yb.baseAddress! + c * m
                        var mean: Float, variance: Float
                        if training {
                            // Two passes in Float with Double totals per block: exact enough, vectorisable.
                            var sum = 0.0
                            var i = 0
                            while i < m {
                                var block: Float = 0
                                for j in i..<min(i + 1024, m) { block += x[j] }
                                sum += Double(block)
                                i += 1024
                            }
                            mean = Float(sum / Double(m))
                            var squares = 0.0
                            i = 0
                            while i < m {
                                var block: Float = 0
                                for j in i..<min(i + 1024, m) { let d = x[j] - mean; block += d * d }
                                squares += Double(block)
                                i += 1024
                            }
                            variance = Float(squares / Double(m))
                            let unbiased = m > 1 ? Float(squares / Double(m - 1)) : variance
                            runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * mean
                            runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * unbiased
                        } else {
                            mean = runningMean.value[c]
                            variance = runningVariance.value[c]
                        }
                        let inv = 1 / (variance + epsilon).squareRoot()
                        inverseStd[c] = inv
                        let g = scale.value[c], b = shift.value[c]
                        if training {
                            let xhat = nb.baseAddress! + c * m
                            for j in 0..<m {
                                xhat[j] = (x[j] - mean) * inv
                                y[j] = g * xhat[j] + b
                            }
                        } else {
                            let a = g * inv, offset = b - mean * g * inv
                            for j in 0..<m { y[j] = a * x[j] + offset }
                        }
                    }
                }
            }
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let channels = gradient.channels, m = gradient.channelStride
        var dx = gradient
        gradient.data.withUnsafeBufferPointer { gb in
            normalized.withUnsafeBufferPointer { nb in
                dx.data.withUnsafeMutableBufferPointer { db in
                    for c in 0..<channels {
                        let dy = gb.baseAddress! + c * m, xhat = nb.baseAddress! + c * m, d = db.baseAddress! + c * m
                        var sumDy: Float = 0, sumDyXhat: Float = 0
                        for j in 0..<m {
                            sumDy += dy[j]
                            sumDyXhat += dy[j] * xhat[j]
                        }
                        scale.gradient[c] += sumDyXhat
                        shift.gradient[c] += sumDy
                        let count = Float(m), k = scale.value[c] * inverseStd[c] / count
                        for j in 0..<m { d[j] = k * (count * dy[j] - sumDy - xhat[j] * sumDyXhat) }
                    }
                }
            }
        }
        return dx
    }
}
