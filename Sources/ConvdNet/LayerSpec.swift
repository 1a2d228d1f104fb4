// LayerSpec: a layer's kind and hyper-parameters, as architecture files and model metadata
// write them. Shapes are not part of a spec: they are inferred layer to layer (as darknet's
// cfg does), so a spec list plus an input shape defines a network.

/// One layer of an architecture.
public enum LayerSpec: Sendable, Equatable {
    /// K filters of size×size over all input channels.
    case conv2d(filters: Int, size: Int, stride: Int, padding: Int, dilation: Int, bias: Bool)
    /// Max over size×size windows.
    case maxpool(size: Int, stride: Int)
    /// Mean over size×size windows.
    case avgpool(size: Int, stride: Int)
    /// Mean of each map → C×1×1.
    case globalAvgpool
    case relu
    case leakyRelu(slope: Float)
    case sigmoid
    case tanh
    /// C×H×W → (C·H·W)×1×1.
    case flatten
    /// Fully connected, to `units` features.
    case dense(units: Int)
    /// Zeroes a fraction `rate` of activations while training (inverted dropout).
    case dropout(rate: Float)
    /// Normalises each channel over the batch (and map), with learned scale and shift.
    case batchnorm(momentum: Float, epsilon: Float)

    /// The name used in architecture files and `convd inspect`.
    public var kind: String {
        switch self {
        case .conv2d: return "conv2d"
        case .maxpool: return "maxpool"
        case .avgpool: return "avgpool"
        case .globalAvgpool: return "global_avgpool"
        case .relu: return "relu"
        case .leakyRelu: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .flatten: return "flatten"
        case .dense: return "dense"
        case .dropout: return "dropout"
        case .batchnorm: return "batchnorm"
        }
    }

    /// Hyper-parameters in a few words, for `convd inspect`.
    public var summary: String {
        switch self {
        case let .conv2d(filters, size, stride, padding, dilation, bias):
            var parts = ["\(filters)×\(size)×\(size)"]
            if stride != 1 { parts.append("stride \(stride)") }
            if padding != 0 { parts.append("pad \(padding)") }
            if dilation != 1 { parts.append("dilation \(dilation)") }
            if !bias { parts.append("no bias") }
            return parts.joined(separator: ", ")
        case let .maxpool(size, stride), let .avgpool(size, stride):
            return "\(size)×\(size)" + (stride != size ? ", stride \(stride)" : "")
        case .leakyRelu(let slope): return "slope \(slope)"
        case .dense(let units): return "\(units) units"
        case .dropout(let rate): return "rate \(rate)"
        case let .batchnorm(momentum, epsilon): return "momentum \(momentum), eps \(epsilon)"
        case .globalAvgpool, .relu, .sigmoid, .tanh, .flatten: return ""
        }
    }

    /// Whether the layer is a non-linearity after which He initialisation suits the layer before.
    var isRectifier: Bool {
        switch self {
        case .relu, .leakyRelu: return true
        default: return false
        }
    }
}
