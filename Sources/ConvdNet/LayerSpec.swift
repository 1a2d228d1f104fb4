// LayerSpec: a layer's kind and hyper-parameters, as architecture files and model metadata
// write them. Shapes are not part of a spec: they are inferred layer to layer (as darknet's
// cfg does), so a spec list plus an input shape defines a network.

/// One layer of an architecture.
public enum LayerSpec: Sendable, Equatable {
    /// K filters of size×size over all input channels.
    case conv2d(filters: Int, size: Int, stride: Int, padding: Int, dilation: Int, bias: Bool)
    /// K filters in `groups` groups: filter group g sees only input channel group g (C/groups
    /// channels). groups = C is a depthwise convolution. Written as conv2d with a `groups` key.
    case groupedConv2d(filters: Int, size: Int, stride: Int, padding: Int, dilation: Int, bias: Bool, groups: Int)
    /// Max over size×size windows.
    case maxpool(size: Int, stride: Int)
    /// Mean over size×size windows.
    case avgpool(size: Int, stride: Int)
    /// Mean of each map → C×1×1.
    case globalAvgpool
    /// Max of each map → C×1×1.
    case globalMaxpool
    case relu
    /// min(max(x, 0), 6).
    case relu6
    /// x · min(max(x + 3, 0), 6) / 6.
    case hardSwish
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
    /// The element-wise sum of two or more inputs of one shape (a residual connection).
    case add
    /// Two or more inputs of one height and width stacked along the channels, in input order.
    case concat

    /// The name used in architecture files and `convd inspect`.
    public var kind: String {
        switch self {
        case .conv2d, .groupedConv2d: return "conv2d"
        case .maxpool: return "maxpool"
        case .avgpool: return "avgpool"
        case .globalAvgpool: return "global_avgpool"
        case .globalMaxpool: return "global_maxpool"
        case .relu: return "relu"
        case .relu6: return "relu6"
        case .hardSwish: return "hard_swish"
        case .leakyRelu: return "leaky_relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .flatten: return "flatten"
        case .dense: return "dense"
        case .dropout: return "dropout"
        case .batchnorm: return "batchnorm"
        case .add: return "add"
        case .concat: return "concat"
        }
    }

    /// Hyper-parameters in a few words, for `convd inspect`.
    public var summary: String {
        switch self {
        case let .conv2d(filters, size, stride, padding, dilation, bias):
            return Self.convSummary(filters, size, stride, padding, dilation, bias, groups: 1)
        case let .groupedConv2d(filters, size, stride, padding, dilation, bias, groups):
            return Self.convSummary(filters, size, stride, padding, dilation, bias, groups: groups)
        case let .maxpool(size, stride), let .avgpool(size, stride):
            return "\(size)×\(size)" + (stride != size ? ", stride \(stride)" : "")
        case .leakyRelu(let slope): return "slope \(slope)"
        case .dense(let units): return "\(units) units"
        case .dropout(let rate): return "rate \(rate)"
        case let .batchnorm(momentum, epsilon): return "momentum \(momentum), eps \(epsilon)"
        case .globalAvgpool, .globalMaxpool, .relu, .relu6, .hardSwish, .sigmoid, .tanh, .flatten, .add, .concat:
            return ""
        }
    }

    private static func convSummary(_ filters: Int, _ size: Int, _ stride: Int, _ padding: Int, _ dilation: Int,
                                    _ bias: Bool, groups: Int) -> String {
        var parts = ["\(filters)×\(size)×\(size)"]
        if groups != 1 { parts.append("groups \(groups)") }
        if stride != 1 { parts.append("stride \(stride)") }
        if padding != 0 { parts.append("pad \(padding)") }
        if dilation != 1 { parts.append("dilation \(dilation)") }
        if !bias { parts.append("no bias") }
        return parts.joined(separator: ", ")
    }

    /// Whether the layer takes two or more inputs.
    public var merges: Bool {
        switch self {
        case .add, .concat: return true
        default: return false
        }
    }

    /// Whether the layer is a non-linearity after which He initialisation suits the layer before.
    var isRectifier: Bool {
        switch self {
        case .relu, .leakyRelu, .relu6, .hardSwish: return true
        default: return false
        }
    }
}
