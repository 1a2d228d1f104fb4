// GlobalAvgPoolLayer: the mean of each map. Input C×N×H×W, output C×N×1×1. Nothing cached;
// backward spreads each gradient equally over its map.

/// Global average pooling.
public final class GlobalAvgPoolLayer: Layer {
    public let spec = LayerSpec.globalAvgpool
    public let inputShape: SampleShape
    public let outputShape: SampleShape

    init(input: SampleShape) {
        inputShape = input
        outputShape = SampleShape(channels: input.channels, height: 1, width: 1)
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let maps = input.channels * input.batch, size = input.mapSize
        var out = BatchTensor(channels: input.channels, batch: input.batch, height: 1, width: 1)
        for m in 0..<maps {
            var sum: Float = 0
            for i in 0..<size { sum += input.data[m * size + i] }
            out.data[m] = sum / Float(size)
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let size = inputShape.height * inputShape.width
        var dx = BatchTensor(channels: inputShape.channels, batch: gradient.batch, height: inputShape.height,
                             width: inputShape.width)
        for m in 0..<(gradient.channels * gradient.batch) {
            let g = gradient.data[m] / Float(size)
            for i in 0..<size { dx.data[m * size + i] = g }
        }
        return dx
    }
}
