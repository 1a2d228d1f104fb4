// ActivationLayer: ReLU, leaky ReLU, sigmoid or tanh, element by element; shapes unchanged.
// Cached for backward: the input (ReLU family) or the output (sigmoid: y(1−y); tanh: 1−y²).
import ConvdCore

/// An element-wise non-linearity; the forward pass is ConvdCore's `Activation`.
public final class ActivationLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public var outputShape: SampleShape { inputShape }
    let function: Activation
    private var cached: [Float] = []

    init(spec: LayerSpec, input: SampleShape) {
        self.spec = spec
        inputShape = input
        switch spec {
        case .relu: function = .relu
        case .leakyRelu(let a): function = .leakyRelu(a)
        case .sigmoid: function = .sigmoid
        case .tanh: function = .tanh
        default: preconditionFailure("ActivationLayer needs an activation spec")
        }
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        if function == .relu && !input.data.isEmpty {
            // Read the input, write a new output: no copy of the input first.
            cached = input.data
            return BatchTensor(channels: input.channels, batch: input.batch, height: input.height,
                               width: input.width) { y in
                input.data.withUnsafeBufferPointer { VectorOps.relu($0.baseAddress!, y.baseAddress!, count: y.count) }
            }
        }
        var out = input
        out.data.withUnsafeMutableBufferPointer { function.apply(inPlace: $0) }
        switch function {
        case .sigmoid, .tanh: cached = out.data
        default: cached = input.data
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        var dx = gradient
        cached.withUnsafeBufferPointer { c in
            dx.data.withUnsafeMutableBufferPointer { g in
                switch function {
                case .relu: VectorOps.rectifierGradient(g.baseAddress!, reference: c.baseAddress!, slope: 0, count: g.count)
                case .leakyRelu(let a):
                    VectorOps.rectifierGradient(g.baseAddress!, reference: c.baseAddress!, slope: a, count: g.count)
                case .sigmoid: for i in g.indices { g[i] *= c[i] * (1 - c[i]) }
                case .tanh: for i in g.indices { g[i] *= 1 - c[i] * c[i] }
                case .abs: for i in g.indices where c[i] < 0 { g[i] = -g[i] }
                }
            }
        }
        return dx
    }
}
