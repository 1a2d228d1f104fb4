// ActivationLayer: ReLU, leaky ReLU, sigmoid or tanh, element by element; shapes unchanged.
// Cached for backward: the input (ReLU family) or the output (sigmoid: y(1−y); tanh: 1−y²).
import ConvdCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An element-wise non-linearity.
public final class ActivationLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public var outputShape: SampleShape { inputShape }
    private var cached: [Float] = []

    init(spec: LayerSpec, input: SampleShape) {
        self.spec = spec
        inputShape = input
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        var out = input
        out.data.withUnsafeMutableBufferPointer { y in
            switch spec {
            case .relu: VectorOps.relu(y.baseAddress!, y.baseAddress!, count: y.count)
            case .leakyRelu(let a): for i in y.indices { y[i] = y[i] > 0 ? y[i] : a * y[i] }
            case .sigmoid: for i in y.indices { y[i] = 1 / (1 + expf(-y[i])) }
            case .tanh: for i in y.indices { y[i] = tanhf(y[i]) }
            default: break
            }
        }
        switch spec {
        case .sigmoid, .tanh: cached = out.data
        default: cached = input.data
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        var dx = gradient
        cached.withUnsafeBufferPointer { c in
            dx.data.withUnsafeMutableBufferPointer { g in
                switch spec {
                case .relu: VectorOps.rectifierGradient(g.baseAddress!, reference: c.baseAddress!, slope: 0, count: g.count)
                case .leakyRelu(let a):
                    VectorOps.rectifierGradient(g.baseAddress!, reference: c.baseAddress!, slope: a, count: g.count)
                case .sigmoid: for i in g.indices { g[i] *= c[i] * (1 - c[i]) }
                case .tanh: for i in g.indices { g[i] *= 1 - c[i] * c[i] }
                default: break
                }
            }
        }
        return dx
    }
}
