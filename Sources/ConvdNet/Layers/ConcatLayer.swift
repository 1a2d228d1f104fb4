// ConcatLayer: inputs of one height and width stacked along the channels, in input order.
// In the C×N×H×W layout each input's channels are one contiguous run of the output, so the
// forward pass appends the inputs' data and backward cuts the gradient at the same places.
// Nothing cached.

/// y = [x₁; x₂; …] along the channels.
public final class ConcatLayer: MergeLayer {
    public let spec = LayerSpec.concat
    public let inputShapes: [SampleShape]
    public let outputShape: SampleShape

    init(inputs: [SampleShape]) {
        inputShapes = inputs
        outputShape = SampleShape(channels: inputs.reduce(0) { $0 + $1.channels }, height: inputs[0].height,
                                  width: inputs[0].width)
    }

    public func forward(_ inputs: [BatchTensor], context: inout LayerContext) -> BatchTensor {
        var data: [Float] = []
        data.reserveCapacity(inputs.reduce(0) { $0 + $1.data.count })
        for x in inputs { data += x.data }
        return BatchTensor(channels: outputShape.channels, batch: inputs[0].batch, height: outputShape.height,
                           width: outputShape.width, data: data)
    }

    public func backwardEach(_ gradient: BatchTensor, context: inout LayerContext) -> [BatchTensor] {
        var start = 0
        return inputShapes.map { shape in
            let count = shape.channels * gradient.channelStride
            defer { start += count }
            return BatchTensor(channels: shape.channels, batch: gradient.batch, height: shape.height, width: shape.width,
                               data: Array(gradient.data[start..<(start + count)]))
        }
    }
}
