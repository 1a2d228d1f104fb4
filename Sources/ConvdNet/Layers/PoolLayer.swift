// PoolLayer: max or average pooling over size×size windows with a stride, no padding
// (conv-semantics.md §3, §6), on each of the C·N maps.
//
// Shapes: input C×N×H×W, output C×N×OH×OW with OH = ⌊(H − size)/stride⌋ + 1.
// Cached for backward: for max, the index of each window's arg-max (the gradient goes there
// alone); for average nothing (the gradient is spread equally over the window).
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
    private var argmax: [Int32] = []
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
    }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let maps = input.channels * input.batch
        let oh = outputShape.height, ow = outputShape.width, h = input.height, w = input.width
        var output = BatchTensor(channels: input.channels, batch: input.batch, height: oh, width: ow)
        cachedBatch = input.batch
        if kind == .max { argmax = [Int32](repeating: 0, count: maps * oh * ow) }
        let (rows, columns, size, kind) = (rows, columns, size, kind)
        input.data.withUnsafeBufferPointer { xb in
            output.data.withUnsafeMutableBufferPointer { yb in
                argmax.withUnsafeMutableBufferPointer { ab in
                    let x = SharedReadPointer(xb.baseAddress!), y = SharedPointer(yb.baseAddress!)
                    let arg = ab.baseAddress.map { SharedPointer($0) }
                    parallelFor(maps, threads: context.threads) { range in
                        for m in range {
                            let plane = x.pointer + m * h * w
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    let y0 = rows.inputIndex(output: oy, tap: 0), x0 = columns.inputIndex(output: ox, tap: 0)
                                    let o = (m * oh + oy) * ow + ox
                                    if kind == .max {
                                        var best = -Float.infinity, at = 0
                                        for a in 0..<size {
                                            for b in 0..<size where plane[(y0 + a) * w + x0 + b] > best {
                                                best = plane[(y0 + a) * w + x0 + b]
                                                at = (y0 + a) * w + x0 + b
                                            }
                                        }
                                        y.pointer[o] = best
                                        arg?.pointer[o] = Int32(at)
                                    } else {
                                        var sum: Float = 0
                                        for a in 0..<size { for b in 0..<size { sum += plane[(y0 + a) * w + x0 + b] } }
                                        y.pointer[o] = sum / Float(size * size)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = cachedBatch, h = inputShape.height, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width
        var dx = BatchTensor(channels: inputShape.channels, batch: n, height: h, width: w)
        let maps = inputShape.channels * n
        let share = 1 / Float(size * size)
        for m in 0..<maps {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let o = (m * oh + oy) * ow + ox, g = gradient.data[o]
                    if kind == .max {
                        dx.data[m * h * w + Int(argmax[o])] += g
                    } else {
                        let y0 = rows.inputIndex(output: oy, tap: 0), x0 = columns.inputIndex(output: ox, tap: 0)
                        for a in 0..<size { for b in 0..<size { dx.data[m * h * w + (y0 + a) * w + x0 + b] += g * share } }
                    }
                }
            }
        }
        return dx
    }
}
