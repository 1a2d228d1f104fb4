// PoolLayer: max or average pooling over size×size windows with a stride, no padding
// (conv-semantics.md §3, §6), on each of the C·N maps.
//
// Shapes: input C×N×H×W, output C×N×OH×OW with OH = ⌊(H − size)/stride⌋ + 1. The forward
// pass is ConvdCore's `Pooling.pool` over the C·N maps, as chains use it.
// Cached for backward: for max, each output's arg-max (the window's first sample equal to the
// maximum, recorded by the forward pass in training), where its gradient goes alone; for
// average nothing (the gradient is spread equally over the window).
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
    /// Max pooling in training: where each output came from, inside its map.
    private var cachedArgmax: [Int32] = []
    /// The batch of the last training forward pass (the one backward differentiates).
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
        let maps = input.channels * input.batch
        let recordsArgmax = kind == .max && context.training
        if context.training { cachedBatch = input.batch }
        if recordsArgmax && cachedArgmax.count != output.data.count {
            cachedArgmax = [Int32](repeating: 0, count: output.data.count)
        }
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                if recordsArgmax {
                    cachedArgmax.withUnsafeMutableBufferPointer { at in
                        pooling.maxPoolArgmax(maps: x.baseAddress!, count: maps, height: input.height,
                                              width: input.width, into: y.baseAddress!, argmax: at.baseAddress!,
                                              threads: context.threads)
                    }
                } else {
                    pooling.pool(maps: x.baseAddress!, count: maps, height: input.height, width: input.width,
                                 into: y.baseAddress!, threads: context.threads)
                }
            }
        }
        return output
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = cachedBatch, h = inputShape.height, w = inputShape.width
        let oh = outputShape.height, ow = outputShape.width
        var dx = BatchTensor(channels: inputShape.channels, batch: n, height: h, width: w)
        let share = 1 / Float(size * size)
        let stride = rows.stride, size = size, isMax = kind == .max
        precondition(gradient.batch == n && (!isMax || cachedArgmax.count == gradient.data.count),
                     "pooling's backward needs the training forward pass of the same batch")
        gradient.data.withUnsafeBufferPointer { gb in
            dx.data.withUnsafeMutableBufferPointer { db in
                cachedArgmax.withUnsafeBufferPointer { ab in
                    let g = SharedReadPointer(gb.baseAddress!), d = SharedPointer(db.baseAddress!)
                    let argmax = isMax ? SharedReadPointer(ab.baseAddress!) : nil
                    // Map by map: windows may overlap inside a map, never across maps.
                    parallelFor(inputShape.channels * n, threads: context.threads) { range in
                        for m in range {
                            let plane = d.pointer + m * h * w, first = m * oh * ow
                            if let at = argmax?.pointer {
                                for o in first..<(first + oh * ow) { plane[Int(at[o])] += g.pointer[o] }
                                continue
                            }
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    let value = g.pointer[first + oy * ow + ox] * share
                                    let corner = plane + oy * stride * w + ox * stride
                                    for a in 0..<size { for b in 0..<size { corner[a * w + b] += value } }
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
