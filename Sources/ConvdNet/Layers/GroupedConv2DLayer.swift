// GroupedConv2DLayer: a convolution in G groups (conv-semantics.md §1 per group): input
// channels and filters are cut into G equal runs, and filter run g sees only input run g.
// G = C is a depthwise convolution. Shapes: input C×N×H×W, weights K×(C/G)×kH×kW, bias K,
// output K×N×OH×OW.
//
// Each group is an ordinary Conv2DLayer (C/G channels in, K/G filters out), so a group runs on
// the same im2col + GEMM and blocked kernels as a full convolution. In the C×N×H×W layout a
// run of channels is one contiguous slice, so cutting the input and joining the outputs are
// copies of whole slices. The layer's weights are one tensor, as model files and ONNX store
// them; each group's slice is handed to its Conv2DLayer when the weights changed, and the
// groups' gradients are added back into the layer's.
import ConvdCore

/// A grouped (or depthwise) convolution.
public final class GroupedConv2DLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public let outputShape: SampleShape
    /// K×(C/G)×kH×kW.
    public let weight: Parameter
    /// K values, or nil without bias.
    public let bias: Parameter?
    let groups: [Conv2DLayer]
    private var syncedVersion = (weight: -1, bias: -1)

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    init(index: Int, spec: LayerSpec, input: SampleShape, initializer: inout WeightInitializer) {
        guard case let .groupedConv2d(filters, size, stride, padding, dilation, hasBias, count) = spec else {
            preconditionFailure("GroupedConv2DLayer needs a grouped conv2d spec")
        }
        self.spec = spec
        inputShape = input
        let groupInput = SampleShape(channels: input.channels / count, height: input.height, width: input.width)
        let groupSpec = LayerSpec.conv2d(filters: filters / count, size: size, stride: stride, padding: padding,
                                         dilation: dilation, bias: hasBias)
        var unused = WeightInitializer(seed: 0)
        groups = (0..<count).map { _ in Conv2DLayer(index: index, spec: groupSpec, input: groupInput, initializer: &unused) }
        let groupOutput = groups[0].outputShape
        outputShape = SampleShape(channels: filters, height: groupOutput.height, width: groupOutput.width)
        let fanIn = groupInput.channels * size * size
        weight = Parameter(name: "layers.\(index).weight", shape: [filters, groupInput.channels, size, size],
                           value: initializer.weights(count: filters * fanIn, fanIn: fanIn,
                                                      fanOut: filters / count * size * size),
                           decays: true)
        bias = hasBias ? Parameter(name: "layers.\(index).bias", shape: [filters],
                                   value: [Float](repeating: 0, count: filters), decays: false) : nil
    }

    /// Hands each group its slice of the weights and bias, when they changed since.
    private func syncGroups() {
        let perGroup = weight.value.count / groups.count, filters = outputShape.channels / groups.count
        if syncedVersion.weight != weight.version {
            for (g, conv) in groups.enumerated() { conv.weight.value = Array(weight.value[(g * perGroup)..<((g + 1) * perGroup)]) }
        }
        if let bias, syncedVersion.bias != bias.version {
            for (g, conv) in groups.enumerated() { conv.bias?.value = Array(bias.value[(g * filters)..<((g + 1) * filters)]) }
        }
        syncedVersion = (weight.version, bias?.version ?? -1)
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        syncGroups()
        let channels = inputShape.channels / groups.count, slice = channels * input.channelStride
        var data: [Float] = []
        for (g, conv) in groups.enumerated() {
            let part = BatchTensor(channels: channels, batch: input.batch, height: input.height, width: input.width,
                                   data: Array(input.data[(g * slice)..<((g + 1) * slice)]))
            data += conv.forward(part, context: &context).data
        }
        return BatchTensor(channels: outputShape.channels, batch: input.batch, height: outputShape.height,
                           width: outputShape.width, data: data)
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let filters = outputShape.channels / groups.count, slice = filters * gradient.channelStride
        let perGroup = weight.value.count / groups.count
        var data: [Float] = []
        for (g, conv) in groups.enumerated() {
            let part = BatchTensor(channels: filters, batch: gradient.batch, height: gradient.height,
                                   width: gradient.width, data: Array(gradient.data[(g * slice)..<((g + 1) * slice)]))
            let dx = conv.backward(part, context: &context)
            if context.inputGradient { data += dx.data }
            for i in 0..<perGroup { weight.gradient[g * perGroup + i] += conv.weight.gradient[i] }
            conv.weight.zeroGradient()
            if let bias, let inner = conv.bias {
                for k in 0..<filters { bias.gradient[g * filters + k] += inner.gradient[k] }
                inner.zeroGradient()
            }
        }
        guard context.inputGradient else {
            return BatchTensor(channels: inputShape.channels, batch: 0, height: inputShape.height, width: inputShape.width)
        }
        return BatchTensor(channels: inputShape.channels, batch: gradient.batch, height: inputShape.height,
                           width: inputShape.width, data: data)
    }
}
