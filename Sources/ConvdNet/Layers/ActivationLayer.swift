// ActivationLayer: ReLU, leaky ReLU, sigmoid or tanh, element by element; shapes unchanged.
// Cached for backward: the input (ReLU family) or the output (sigmoid: y(1−y); tanh: 1−y²).
// ReLU's forward pass and the ReLU family's backward write fresh outputs, split over the
// threads on large batches (ParallelElementwise.swift).
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
                input.data.withUnsafeBufferPointer { x in
                    let from = SharedReadPointer(x.baseAddress!), to = SharedPointer(y.baseAddress!)
                    parallelElementwise(y.count, threads: context.threads) { r in
                        VectorOps.relu(from.pointer + r.lowerBound, to.pointer + r.lowerBound, count: r.count)
                    }
                }
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

    /// The slope below zero of the ReLU family (0 for ReLU), nil for the other functions.
    private var rectifierSlope: Float? {
        switch function {
        case .relu: 0
        case .leakyRelu(let a): a
        default: nil
        }
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        if let slope = rectifierSlope, !gradient.data.isEmpty {
            // Read ∂Y, write a new ∂X (no copy of ∂Y first), split over the threads.
            return BatchTensor(channels: gradient.channels, batch: gradient.batch, height: gradient.height,
                               width: gradient.width) { dx in
                gradient.data.withUnsafeBufferPointer { g in
                    cached.withUnsafeBufferPointer { c in
                        let dy = SharedReadPointer(g.baseAddress!), reference = SharedReadPointer(c.baseAddress!)
                        let out = SharedPointer(dx.baseAddress!)
                        parallelElementwise(dx.count, threads: context.threads) { r in
                            VectorOps.rectifierGradient(dy.pointer + r.lowerBound, reference: reference.pointer + r.lowerBound,
                                                        slope: slope, into: out.pointer + r.lowerBound, count: r.count)
                        }
                    }
                }
            }
        }
        var dx = gradient
        cached.withUnsafeBufferPointer { c in
            dx.data.withUnsafeMutableBufferPointer { g in
                switch function {
                case .relu, .leakyRelu: break  // above
                case .sigmoid: for i in g.indices { g[i] *= c[i] * (1 - c[i]) }
                case .tanh: for i in g.indices { g[i] *= 1 - c[i] * c[i] }
                case .abs: for i in g.indices where c[i] < 0 { g[i] = -g[i] }
                }
            }
        }
        return dx
    }
}
