// Pooling: MaxPool and AveragePool over the two spatial axes of N×C×H×W (pads, auto_pad,
// ceil_mode, MaxPool's dilations, AveragePool's count_include_pad), and the global poolings
// over every spatial axis.
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
            let planes = x.shape[0] * x.shape[1]
            let kernel = Kernel.unary { t in
                var out = [Float](repeating: 0, count: planes * window.output[0] * window.output[1])
                for p in 0..<planes {
                    poolPlane(t.floats, p, window, average: average, includePad: includePad, into: &out)
                }
                return OnnxTensor(shape: Array(t.shape[0..<2]) + window.output, floats: out)
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: Array(x.shape[0..<2]) + window.output)])
        }
    }

    static func poolPlane(_ x: [Float], _ p: Int, _ win: SpatialWindow, average: Bool, includePad: Bool,
                          into out: inout [Float]) {
        let (h, w) = (win.input[0], win.input[1]), (oh, ow) = (win.output[0], win.output[1])
        let base = p * h * w
        for oy in 0..<oh {
            for ox in 0..<ow {
                let y0 = oy * win.strides[0] - win.padBegin[0], x0 = ox * win.strides[1] - win.padBegin[1]
                var best = -Float.infinity, sum: Float = 0, count = 0
                for ky in 0..<win.kernel[0] {
                    let iy = y0 + ky * win.dilations[0]
                    guard iy >= 0 && iy < h else { continue }
                    for kx in 0..<win.kernel[1] {
                        let ix = x0 + kx * win.dilations[1]
                        guard ix >= 0 && ix < w else { continue }
                        let v = x[base + iy * w + ix]
                        best = max(best, v)
                        sum += v
                        count += 1
                    }
                }
                if average && includePad {
                    // Padded positions count, but not the extra room ceil mode adds past the pads.
                    let rows = min(y0 + (win.kernel[0] - 1) * win.dilations[0] + 1, h + win.padEnd[0]) - y0
                    let cols = min(x0 + (win.kernel[1] - 1) * win.dilations[1] + 1, w + win.padEnd[1]) - x0
                    count = ((rows - 1) / win.dilations[0] + 1) * ((cols - 1) / win.dilations[1] + 1)
                }
                out[(p * oh + oy) * ow + ox] = average ? (count > 0 ? sum / Float(count) : 0) : best
            }
        }
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
