// AddLayer: the element-wise sum of its inputs, all of one shape — a residual connection.
// Nothing cached; backward hands ∂L/∂output unchanged to every input.

/// y = x₁ + x₂ + … .
public final class AddLayer: MergeLayer {
    public let spec = LayerSpec.add
    public let inputShapes: [SampleShape]
    public var outputShape: SampleShape { inputShapes[0] }

    init(inputs: [SampleShape]) {
        inputShapes = inputs
    }

    public func forward(_ inputs: [BatchTensor], context: inout LayerContext) -> BatchTensor {
        var sum = inputs[0]
        sum.data.withUnsafeMutableBufferPointer { y in
            for other in inputs.dropFirst() {
                precondition(other.data.count == y.count, "add: inputs of different sizes")
                other.data.withUnsafeBufferPointer { x in
                    for i in 0..<y.count { y[i] += x[i] }
                }
            }
        }
        return sum
    }

    public func backwardEach(_ gradient: BatchTensor, context: inout LayerContext) -> [BatchTensor] {
        [BatchTensor](repeating: gradient, count: inputShapes.count)
    }
}
