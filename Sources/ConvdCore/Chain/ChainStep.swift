// ChainStep: one operator of a filter chain (DESIGN.md §3), with its shape rule and its
// computation. Each case maps to one ConvdCore operator.

/// What one step of a chain does.
public enum ChainStep: Sendable, Equatable {
    /// RGB → luma (a gray input passes through).
    case gray
    /// Gray → three equal channels (an RGB input passes through).
    case rgb
    /// A bank of kernels.
    case convolution(Convolution)
    /// `sqrt(Σ x²)` across all maps → one map.
    case magnitude
    /// An element-wise function.
    case activation(Activation)
    /// Max or average pooling.
    case pool(Pooling)
    /// Global max or average pooling → C×1×1.
    case globalPool(PoolKind)
    /// Weighted sum across channels → one map.
    case conv1x1([Float])
    /// Per-map rescaling to 0...1.
    case normalize(Normalization)

    /// The output shape for `shape`, or a message saying why the step cannot take it.
    public func outputShape(for shape: TensorShape) -> Result<TensorShape, StepProblem> {
        switch self {
        case .gray:
            return shape.channels == 1 || shape.channels == 3 ? .success(TensorShape(channels: 1, height: shape.height,
                                                                                       width: shape.width))
                : .failure(StepProblem("gray needs 1 or 3 channels, the input has \(shape.channels)"))
        case .rgb:
            return shape.channels == 1 || shape.channels == 3 ? .success(TensorShape(channels: 3, height: shape.height,
                                                                                       width: shape.width))
                : .failure(StepProblem("rgb needs 1 or 3 channels, the input has \(shape.channels)"))
        case .convolution(let conv):
            if let problem = conv.problem(with: shape) { return .failure(StepProblem(problem)) }
            return .success(conv.outputShape(for: shape))
        case .magnitude:
            return .success(TensorShape(channels: 1, height: shape.height, width: shape.width))
        case .activation, .normalize:
            return .success(shape)
        case .pool(let pooling):
            let out = pooling.outputShape(for: shape)
            guard out.height > 0 && out.width > 0 else {
                return .failure(StepProblem("a \(pooling.window)×\(pooling.window) window does not fit a "
                                            + "\(shape.height)×\(shape.width) input: the output would be "
                                            + "\(out.height)×\(out.width)"))
            }
            return .success(out)
        case .globalPool:
            return .success(TensorShape(channels: shape.channels, height: 1, width: 1))
        case .conv1x1(let weights):
            guard weights.count == shape.channels else {
                return .failure(StepProblem("\(weights.count) weights for \(shape.channels) input channels"))
            }
            return .success(TensorShape(channels: 1, height: shape.height, width: shape.width))
        }
    }

    /// Computes the step (the input's shape must have passed `outputShape(for:)`).
    public func apply(_ input: Tensor, threads: Int) -> Tensor {
        switch self {
        case .gray: return ChannelOps.gray(input, threads: threads)
        case .rgb: return ChannelOps.rgb(input)
        case .convolution(let conv): return conv.apply(input, threads: threads)
        case .magnitude: return ChannelOps.magnitude(input, threads: threads)
        case .activation(let f): return f.apply(input)
        case .pool(let pooling): return pooling.apply(input, threads: threads)
        case .globalPool(let kind): return Pooling.global(kind, input)
        case .conv1x1(let weights): return ChannelOps.conv1x1(input, weights: weights, threads: threads)
        case .normalize(let n): return n.apply(input)
        }
    }
}

/// Why a step cannot take an input shape.
public struct StepProblem: Error, Equatable {
    /// What is wrong.
    public let message: String

    init(_ message: String) {
        self.message = message
    }
}
