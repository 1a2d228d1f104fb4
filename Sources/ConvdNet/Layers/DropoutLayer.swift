// DropoutLayer: while training, zeroes each activation with probability `rate` and scales the
// rest by 1/(1 − rate) (inverted dropout), so inference is the identity. Shapes unchanged.
// Cached for backward: the mask (0 or the scale), applied to the gradient.

/// Inverted dropout.
public final class DropoutLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public var outputShape: SampleShape { inputShape }
    let rate: Float
    private var mask: [Float] = []

    init(spec: LayerSpec, input: SampleShape) {
        guard case .dropout(let rate) = spec else { preconditionFailure("DropoutLayer needs a dropout spec") }
        self.spec = spec
        self.rate = rate
        inputShape = input
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        guard context.training && rate > 0 else {
            mask = []
            return input
        }
        let keep = 1 / (1 - rate)
        mask = (0..<input.data.count).map { _ in context.random.nextUnit() < rate ? 0 : keep }
        var out = input
        for i in out.data.indices { out.data[i] *= mask[i] }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        guard !mask.isEmpty else { return gradient }
        var dx = gradient
        for i in dx.data.indices { dx.data[i] *= mask[i] }
        return dx
    }
}
