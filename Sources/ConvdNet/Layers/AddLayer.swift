// AddLayer: the element-wise sum of its inputs, all of one shape — a residual connection.
// Nothing cached; backward hands ∂L/∂output unchanged to every input. The sum is written
// fresh, split over the threads on large batches (ParallelElementwise.swift).

/// y = x₁ + x₂ + … .
public final class AddLayer: MergeLayer {
    public let spec = LayerSpec.add
    public let inputShapes: [SampleShape]
    public var outputShape: SampleShape { inputShapes[0] }

    init(inputs: [SampleShape]) {
        inputShapes = inputs
    }

    public func forward(_ inputs: [BatchTensor], context: inout LayerContext) -> BatchTensor {
        guard inputs.count > 1 else { return inputs[0] }
        var sum = BatchTensor(sum: inputs[0], inputs[1], threads: context.threads)
        for other in inputs.dropFirst(2) { sum.add(other, threads: context.threads) }
        return sum
    }

    public func backwardEach(_ gradient: BatchTensor, context: inout LayerContext) -> [BatchTensor] {
        [BatchTensor](repeating: gradient, count: inputShapes.count)
    }
}
