// ClippedActivationLayer: the bounded activations of mobile networks, element by element;
// shapes unchanged. ReLU6: y = min(max(x, 0), 6), ∂y/∂x = 1 on (0, 6), else 0.
// Hard-swish: y = x · min(max(x + 3, 0), 6) / 6, ∂y/∂x = 0 below −3, 1 above 3, (2x + 3)/6
// between. Cached for backward: the input.

/// ReLU6 or hard-swish.
public final class ClippedActivationLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public var outputShape: SampleShape { inputShape }
    private let swish: Bool
    private var cached: [Float] = []

    init(spec: LayerSpec, input: SampleShape) {
        self.spec = spec
        inputShape = input
        switch spec {
        case .relu6: swish = false
        case .hardSwish: swish = true
        default: preconditionFailure("ClippedActivationLayer needs relu6 or hard_swish")
        }
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        cached = input.data
        var out = input
        let swish = swish
        out.data.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count {
                let x = y[i]
                y[i] = swish ? x * min(max(x + 3, 0), 6) / 6 : min(max(x, 0), 6)
            }
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        var dx = gradient
        let swish = swish
        cached.withUnsafeBufferPointer { c in
            dx.data.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count {
                    let x = c[i]
                    if swish {
                        g[i] *= x <= -3 ? 0 : (x >= 3 ? 1 : (2 * x + 3) / 6)
                    } else if !(x > 0 && x < 6) {
                        g[i] = 0
                    }
                }
            }
        }
        return dx
    }
}
