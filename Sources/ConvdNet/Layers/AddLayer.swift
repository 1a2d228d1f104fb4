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
        for other in inputs.dropFirst() { sum.add(other) }
        return sum
    }

    public func backwardEach(_ gradient: BatchTensor, context: inout LayerContext) -> [BatchTensor] {
        [BatchTensor](repeating: gradient, count: inputShapes.count)
    }
}
