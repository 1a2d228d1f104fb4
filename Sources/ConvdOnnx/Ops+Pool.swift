// Pooling: MaxPool and AveragePool over the two spatial axes of N×C×H×W (pads, auto_pad,
// ceil_mode, MaxPool's dilations, AveragePool's count_include_pad), and the global poolings
// over every spatial axis.
import CConvKernels
import ConvdCore

extension Operators {
    static let pooling: [String: [(Int, Builder)]] = [
        "MaxPool": [(1, pool(average: false))],
        "AveragePool": [(1, pool(average: true))],
        "GlobalAveragePool": [(1, globalPool(average: true))],
        "GlobalMaxPool": [(1, globalPool(average: false))],
    ]

    static func pool(average: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.floatInput(0)
            guard x.shape.count == 4 else { throw .shape("only 2-D pooling (4-D input) is supported; input is \(x.shape.shapeText)") }
            guard b.node.outputs.count == 1 || b.node.outputs[1].isEmpty else {
                throw .attribute("the Indices output is not supported")
            }
            try b.refuse("storage_order", unless: .int(0))
            let ceil = try b.int("ceil_mode", 0) != 0
            let dilated = !average || b.opset >= 19
            let window = try SpatialWindow(b, input: Array(x.shape[2...]), kernel: SpatialWindow.kernelShape(b, rank: 2),
                                           ceilMode: ceil, allowDilations: dilated)
            let includePad = try b.int("count_include_pad", 0) != 0
            // A window entirely in the padding has no input value (onnxruntime refuses it too).
            for d in 0..<2 where max(window.padBegin[d], window.padEnd[d]) >= window.kernel[d] {
                throw .attribute("pads \(window.padBegin + window.padEnd) must be smaller than kernel_shape \(window.kernel)")
            }
            let planes = x.shape[0] * x.shape[1], (h, w) = (window.input[0], window.input[1])
            let (oh, ow) = (window.output[0], window.output[1])
            // An average's divisor is separable: taps counted per row times per column.
            let rows = (0..<oh).map { tapCount($0, axis: 0, window, includePad: includePad) }
            let cols = (0..<ow).map { tapCount($0, axis: 1, window, includePad: includePad) }
            // Max pooling takes blocked maps as they are (after a blocked convolution); the
            // output stays blocked.
            let kernel = Kernel(takesBlocked: !average) { inputs, threads in
                let t = inputs[0]!
                if t.blocked {
                    return [maxPoolBlocked(t, window, threads: threads)]
                }
                var out = [Float](unsafeUninitializedCapacity: planes * oh * ow) { _, n in n = planes * oh * ow }
                t.floats.withUnsafeBufferPointer { xp in
                    out.withUnsafeMutableBufferPointer { op in
                        for p in 0..<planes {
                            convd_pool_plane(xp.baseAddress! + p * h * w, Int32(h), Int32(w), Int32(window.kernel[0]),
                                             Int32(window.kernel[1]), Int32(window.strides[0]), Int32(window.strides[1]),
                                             Int32(window.dilations[0]), Int32(window.dilations[1]),
                                             Int32(window.padBegin[0]), Int32(window.padBegin[1]), average ? 1 : 0,
                                             op.baseAddress! + p * oh * ow, Int32(oh), Int32(ow))
                            guard average else { continue }
                            for y in 0..<oh {
                                for x in 0..<ow {
                                    let count = rows[y] * cols[x], i = (p * oh + y) * ow + x
                                    op[i] = count > 0 ? op[i] / Float(count) : 0
                                }
                            }
                        }
                    }
                }
                return [OnnxTensor(shape: Array(t.shape[0..<2]) + window.output, floats: out)]
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: Array(x.shape[0..<2]) + window.output)])
        }
    }

    /// Max pooling of a blocked tensor, blocks split over the threads when it pays.
    static func maxPoolBlocked(_ t: OnnxTensor, _ win: SpatialWindow, threads: Int) -> OnnxTensor {
        let (h, w) = (win.input[0], win.input[1]), (oh, ow) = (win.output[0], win.output[1])
        let blocks = t.shape[0] * ((t.shape[1] + 15) / 16)
        let count = blocks * oh * ow * 16
        var out = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        let parts = max(1, min(threads, blocks, count * win.kernel[0] * win.kernel[1] / BlockedConv.parallelWork))
        t.floats.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                let source = SharedReadPointer(xp.baseAddress!), target = SharedPointer(op.baseAddress!)
                parallelFor(blocks, threads: parts) { range in
                    convd_maxpool_blocked(source.pointer, h * w * 16, Int32(h), Int32(w), Int32(win.kernel[0]),
                                          Int32(win.kernel[1]), Int32(win.strides[0]), Int32(win.strides[1]),
                                          Int32(win.dilations[0]), Int32(win.dilations[1]), Int32(win.padBegin[0]),
                                          Int32(win.padBegin[1]), target.pointer, oh * ow * 16, Int32(oh), Int32(ow),
                                          Int32(range.lowerBound), Int32(range.upperBound))
                }
            }
        }
        return OnnxTensor(blockedShape: Array(t.shape[0..<2]) + win.output, floats: out)
    }

    /// The taps of output position `o` along `axis` that an average divides by: those inside
    /// the input, or with `includePad` those inside the pads too (not the room ceil mode adds).
    static func tapCount(_ o: Int, axis d: Int, _ win: SpatialWindow, includePad: Bool) -> Int {
        let start = o * win.strides[d] - win.padBegin[d], n = win.input[d], step = win.dilations[d]
        if includePad {
            let span = min(start + (win.kernel[d] - 1) * step + 1, n + win.padEnd[d]) - start
            return (span - 1) / step + 1
        }
        return (0..<win.kernel[d]).filter { start + $0 * step >= 0 && start + $0 * step < n }.count
    }

    static func globalPool(average: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.floatInput(0)
            guard x.shape.count >= 3, !x.shape[2...].contains(0) else {
                throw .shape("input \(x.shape.shapeText) has no spatial axes, or an empty one")
            }
            let planes = x.shape[0] * x.shape[1], size = x.shape[2...].reduce(1, *)
            let outShape = Array(x.shape[0..<2]) + [Int](repeating: 1, count: x.shape.count - 2)
            let kernel = Kernel.unary { t in
                OnnxTensor(shape: outShape, floats: (0..<planes).map { p in
                    let plane = t.floats[(p * size)..<((p + 1) * size)]
                    return average ? plane.reduce(0, +) / Float(size) : plane.max() ?? 0
                })
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: outShape)])
        }
    }
}
