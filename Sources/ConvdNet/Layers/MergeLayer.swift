// MergeLayer: a layer with two or more inputs (add, concat). The network hands it every input
// at once and gets one gradient per input back; its one-input `forward`/`backward` (the Layer
// protocol's) are the one-input case, which architectures never build.

/// A layer reading several tensors.
public protocol MergeLayer: Layer {
    /// The per-sample shape of each input.
    var inputShapes: [SampleShape] { get }
    /// The output for `inputs` (one batch size).
    func forward(_ inputs: [BatchTensor], context: inout LayerContext) -> BatchTensor
    /// ∂L/∂input for each input, given ∂L/∂output.
    func backwardEach(_ gradient: BatchTensor, context: inout LayerContext) -> [BatchTensor]
}

extension MergeLayer {
    public var inputShape: SampleShape { inputShapes[0] }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        forward([input], context: &context)
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        backwardEach(gradient, context: &context)[0]
    }
}
