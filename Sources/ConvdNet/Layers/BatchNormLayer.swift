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

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let channels = input.channels, m = input.channelStride
        var out = input
        if context.training { normalized = input.data }
        inverseStd = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let range = (c * m)..<((c + 1) * m)
            var mean: Float, variance: Float
            if context.training {
                var sum: Double = 0, squares: Double = 0
                for i in range { sum += Double(input.data[i]) }
                let mu = sum / Double(m)
                for i in range { let d = Double(input.data[i]) - mu; squares += d * d }
                mean = Float(mu)
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
            for i in range {
                let xhat = (input.data[i] - mean) * inv
                if context.training { normalized[i] = xhat }
                out.data[i] = g * xhat + b
            }
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let channels = gradient.channels, m = gradient.channelStride
        var dx = gradient
        for c in 0..<channels {
            let range = (c * m)..<((c + 1) * m)
            var sumDy: Float = 0, sumDyXhat: Float = 0
            for i in range {
                sumDy += gradient.data[i]
                sumDyXhat += gradient.data[i] * normalized[i]
            }
            scale.gradient[c] += sumDyXhat
            shift.gradient[c] += sumDy
            let g = scale.value[c], inv = inverseStd[c], count = Float(m)
            for i in range {
                dx.data[i] = g * inv / count * (count * gradient.data[i] - sumDy - normalized[i] * sumDyXhat)
            }
        }
        return dx
    }
}
