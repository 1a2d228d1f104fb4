// FlattenLayer: C×N×H×W → (C·H·W)×N×1×1, feature index c·H·W + y·W + x (each sample's C×H×W
// values in order, as a framework's flatten gives them). Nothing cached.

/// Flattens each sample's maps into one feature vector.
public final class FlattenLayer: Layer {
    public let spec = LayerSpec.flatten
    public let inputShape: SampleShape
    public let outputShape: SampleShape

    init(input: SampleShape) {
        inputShape = input
        outputShape = SampleShape(channels: input.channels * input.height * input.width, height: 1, width: 1)
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = input.batch, map = input.mapSize
        var out = BatchTensor(channels: outputShape.channels, batch: n, height: 1, width: 1)
        for c in 0..<input.channels {
            for sample in 0..<n {
                for p in 0..<map { out.data[(c * map + p) * n + sample] = input.data[(c * n + sample) * map + p] }
            }
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = gradient.batch, map = inputShape.height * inputShape.width
        var dx = BatchTensor(channels: inputShape.channels, batch: n, height: inputShape.height, width: inputShape.width)
        for c in 0..<inputShape.channels {
            for sample in 0..<n {
                for p in 0..<map { dx.data[(c * n + sample) * map + p] = gradient.data[(c * map + p) * n + sample] }
            }
        }
        return dx
    }
}
