// GlobalMaxPoolLayer: the maximum of each map. Input C×N×H×W, output C×N×1×1. Cached: the
// position of each map's maximum (the first one on ties); backward routes each gradient there.

/// Global max pooling.
public final class GlobalMaxPoolLayer: Layer {
    public let spec = LayerSpec.globalMaxpool
    public let inputShape: SampleShape
    public let outputShape: SampleShape
    private var argmax: [Int] = []

    init(input: SampleShape) {
        inputShape = input
        outputShape = SampleShape(channels: input.channels, height: 1, width: 1)
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let maps = input.channels * input.batch, size = input.mapSize
        var out = BatchTensor(channels: input.channels, batch: input.batch, height: 1, width: 1)
        if argmax.count != maps { argmax = [Int](repeating: 0, count: maps) }
        input.data.withUnsafeBufferPointer { x in
            for m in 0..<maps {
                var best = 0, top = x[m * size]
                for i in 1..<max(size, 1) where x[m * size + i] > top {
                    top = x[m * size + i]
                    best = i
                }
                out.data[m] = top
                argmax[m] = best
            }
        }
        return out
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let size = inputShape.height * inputShape.width
        var dx = BatchTensor(channels: inputShape.channels, batch: gradient.batch, height: inputShape.height,
                             width: inputShape.width)
        for m in 0..<(gradient.channels * gradient.batch) { dx.data[m * size + argmax[m]] = gradient.data[m] }
        return dx
    }
}
