// BatchNormLayer: per-channel normalisation over the batch and the map (2-D after a conv,
// 1-D after a dense layer: the same code, as channels × (N·H·W) is contiguous per channel).
//   training:  x̂ = (x − μ_B)/√(σ²_B + ε), y = γ·x̂ + β; running = (1 − m)·running + m·batch
//              (σ² unbiased for the running variance, as PyTorch does)
//   inference: x̂ uses the running mean and variance.
// Shapes unchanged; parameters γ, β (C each); buffers running mean and variance.
// Cached for backward: x̂ and 1/√(σ²_B + ε). Channels run in parallel, their sums in vector
// lanes (VectorOps).
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
    /// Values per channel (N·H·W) from which the channels are split over the threads.
    static let parallelValues = 4096
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
        if input.data.isEmpty { return input }
        let training = context.training
        if training && normalized.count != input.data.count { normalized = [Float](repeating: 0, count: input.data.count) }
        // Per channel: the mean and variance used (the batch's in training, else the running ones).
        var mean = training ? [Float](repeating: 0, count: channels) : runningMean.value
        var variance = training ? [Float](repeating: 0, count: channels) : runningVariance.value
        let (epsilon, gamma, beta) = (epsilon, scale.value, shift.value)
        let out = BatchTensor(channels: channels, batch: input.batch, height: input.height, width: input.width) { yb in
            input.data.withUnsafeBufferPointer { xb in
                normalized.withUnsafeMutableBufferPointer { nb in
                    mean.withUnsafeMutableBufferPointer { meanBuffer in
                        variance.withUnsafeMutableBufferPointer { varianceBuffer in
                            let x = SharedReadPointer(xb.baseAddress!), y = SharedPointer(yb.baseAddress!)
                            let xhat = training ? nb.baseAddress.map { SharedPointer($0) } : nil
                            let means = SharedPointer(meanBuffer.baseAddress!)
                            let variances = SharedPointer(varianceBuffer.baseAddress!)
                            // Channels are contiguous and independent: one range of them per thread.
                            parallelFor(channels, threads: m >= Self.parallelValues ? context.threads : 1) { range in
                                for c in range {
                                    let x = x.pointer + c * m, y = y.pointer + c * m
                                    if training {
                                        let mu = Float(VectorOps.sum(x, count: m) / Double(m))
                                        means.pointer[c] = mu
                                        variances.pointer[c] = Float(VectorOps.squaredDeviations(x, mean: mu, count: m)
                                                                     / Double(m))
                                    }
                                    let mu = means.pointer[c]
                                    let inv = 1 / (variances.pointer[c] + epsilon).squareRoot()
                                    let g = gamma[c], b = beta[c]
                                    if let xhat {
                                        let h = xhat.pointer + c * m
                                        for j in 0..<m {
                                            h[j] = (x[j] - mu) * inv
                                            y[j] = g * h[j] + b
                                        }
                                    } else {
                                        let a = g * inv, offset = b - mu * g * inv
                                        for j in 0..<m { y[j] = a * x[j] + offset }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if inverseStd.count != channels { inverseStd = [Float](repeating: 0, count: channels) }
        for c in 0..<channels { inverseStd[c] = 1 / (variance[c] + epsilon).squareRoot() }
        if training {
            // σ² unbiased for the running variance, as PyTorch does.
            let correction = m > 1 ? Float(Double(m) / Double(m - 1)) : 1
            for c in 0..<channels {
                runningMean.value[c] = (1 - momentum) * runningMean.value[c] + momentum * mean[c]
                runningVariance.value[c] = (1 - momentum) * runningVariance.value[c] + momentum * variance[c] * correction
            }
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let channels = gradient.channels, m = gradient.channelStride
        if gradient.data.isEmpty { return gradient }
        var sums = [Float](repeating: 0, count: 2 * channels)
        let factors = (0..<channels).map { scale.value[$0] * inverseStd[$0] / Float(m) }
        let dx = BatchTensor(channels: channels, batch: gradient.batch, height: gradient.height,
                             width: gradient.width) { db in
            gradient.data.withUnsafeBufferPointer { gb in
                normalized.withUnsafeBufferPointer { nb in
                    sums.withUnsafeMutableBufferPointer { sb in
                        let dy = SharedReadPointer(gb.baseAddress!), xhat = SharedReadPointer(nb.baseAddress!)
                        let d = SharedPointer(db.baseAddress!), totals = SharedPointer(sb.baseAddress!)
                        parallelFor(channels, threads: m >= Self.parallelValues ? context.threads : 1) { range in
                            for c in range {
                                let dy = dy.pointer + c * m, xhat = xhat.pointer + c * m, d = d.pointer + c * m
                                let sumDy = Float(VectorOps.sum(dy, count: m))
                                let sumDyXhat = Float(VectorOps.dot(dy, xhat, count: m))
                                totals.pointer[2 * c] = sumDy
                                totals.pointer[2 * c + 1] = sumDyXhat
                                let count = Float(m), k = factors[c]
                                for j in 0..<m { d[j] = k * (count * dy[j] - sumDy - xhat[j] * sumDyXhat) }
                            }
                        }
                    }
                }
            }
        }
        for c in 0..<channels {
            shift.gradient[c] += sums[2 * c]
            scale.gradient[c] += sums[2 * c + 1]
        }
        return dx
    }
}
