// PoolLayer: max or average pooling over size×size windows with a stride, no padding
// (conv-semantics.md §3, §6), on each of the C·N maps.
//
// Shapes: input C×N×H×W, output C×N×OH×OW with OH = ⌊(H − size)/stride⌋ + 1. The forward
// pass is ConvdCore's `Pooling.pool` over the C·N maps, as chains use it.
// Cached for backward: for max, the input and output (backward finds each window's first
// arg-max, where the gradient goes alone); for average nothing (the gradient is spread
// equally over the window).
import ConvdCore

/// Max or average pooling.
public final class PoolLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public let outputShape: SampleShape
    let kind: PoolKind
    let size: Int
    let rows: AxisWindow
    let columns: AxisWindow
    /// The forward pass: ConvdCore's pooling loop over the C·N maps.
    let pooling: Pooling
    private var cachedInput: [Float] = []
    private var cachedOutput: [Float] = []
    private var cachedBatch = 0

    init(spec: LayerSpec, input: SampleShape) {
        let (kind, size, stride): (PoolKind, Int, Int)
        switch spec {
        case let .maxpool(s, st): (kind, size, stride) = (.max, s, st)
        case let .avgpool(s, st): (kind, size, stride) = (.average, s, st)
        default: preconditionFailure("PoolLayer needs a pooling spec")
        }
        self.spec = spec
        self.kind = kind
        self.size = size
        inputShape = input
        rows = AxisWindow(inputSize: input.height, kernelSize: size, stride: stride, padding: .valid)
        columns = AxisWindow(inputSize: input.width, kernelSize: size, stride: stride, padding: .valid)
        outputShape = SampleShape(channels: input.channels, height: rows.outputSize, width: columns.outputSize)
        pooling = Pooling(kind: kind, window: size, stride: stride, padding: .valid)
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        var output = BatchTensor(channels: input.channels, batch: input.batch, height: outputShape.height,
                                 width: outputShape.width)
        cachedBatch = input.batch
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                pooling.pool(maps: x.baseAddress!, count: input.channels * input.batch, height: input.height,
                             width: input.width, into: y.baseAddress!, threads: context.threads)
            }
        }
        if kind == .max {
            cachedInput = input.data
            cachedOutput = output.data
        }
        return output
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = cachedBatch, h = inputShape.height, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width
        var dx = BatchTensor(channels: inputShape.channels, batch: n, height: h, width: w)
        let maps = inputShape.channels * n
        let share = 1 / Float(size * size)
        let stride = rows.stride, size = size, isMax = kind == .max
        gradient.data.withUnsafeBufferPointer { gb in
            dx.data.withUnsafeMutableBufferPointer { db in
                cachedInput.withUnsafeBufferPointer { xb in
                    cachedOutput.withUnsafeBufferPointer { yb in
                        let g = gb.baseAddress!
                        for m in 0..<maps {
                            let plane = db.baseAddress! + m * h * w
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    let o = (m * oh + oy) * ow + ox, corner = oy * stride * w + ox * stride
                                    if isMax {
                                        // The first position holding the maximum takes the gradient.
                                        let x = xb.baseAddress! + m * h * w, best = yb[o]
                                        var at = corner
                                        search: for a in 0..<size {
                                            for b in 0..<size where x[corner + a * w + b] == best {
                                                at = corner + a * w + b
                                                break search
                                            }
                                        }
                                        plane[at] += g[o]
                                    } else {
                                        for a in 0..<size { for b in 0..<size { plane[corner + a * w + b] += g[o] * share } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
