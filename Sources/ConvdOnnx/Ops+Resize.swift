// Resize (and opset 9's Upsample): nearest and linear interpolation along any axes, one axis
// at a time (both are separable), with ONNX's coordinate transformation and nearest rounding
// modes. Scales or sizes must be constant. Cubic, crop-and-resize and antialiasing are
// refused by name.

extension Operators {
    static let resizing: [String: [(Int, Builder)]] = [
        "Resize": [(10, resize)],
        "Upsample": [(9, resize)],
    ]

    static let resize: Builder = { b throws(Unsupported) in
        let x = try b.floatInput(0)
        let rank = x.shape.count
        let mode = try b.string("mode", "nearest")
        guard mode == "nearest" || mode == "linear" else { throw .attribute("mode \"\(mode)\" is not supported (nearest, linear)") }
        let transform = try b.string("coordinate_transformation_mode", b.opset >= 11 ? "half_pixel" : "asymmetric")
        let known = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                     "half_pixel_symmetric"]
        guard known.contains(transform) else { throw .attribute("coordinate_transformation_mode \"\(transform)\" is not supported") }
        let rounding = try b.string("nearest_mode", b.opset >= 11 ? "round_prefer_floor" : "floor")
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(rounding) else {
            throw .attribute("nearest_mode \"\(rounding)\" is not supported")
        }
        try b.refuse("antialias", unless: .int(0))
        try b.refuse("keep_aspect_ratio_policy", unless: .string("stretch"))
        let scaleIndex = b.opset >= 11 ? 2 : 1
        let axes = try (b.ints("axes") ?? Array(0..<rank)).map { a throws(Unsupported) in try b.axis(a, rank: rank) }
        guard x.shape.allSatisfy({ $0 >= 1 }) else { throw .shape("the input \(x.shape.shapeText) has an empty axis") }
        var scales = [Float](repeating: 1, count: rank), out = x.shape
        // The resized length align_corners divides by: n·scale when scales are given (ONNX's
        // reference keeps the fraction), else the output size.
        var lengths = x.shape.map(Float.init)
        if let sizes = try b.intList(scaleIndex + 1, "sizes"), sizes.count > 0 {
            guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else {
                throw .attribute("sizes need \(axes.count) values from 1 to \(1 << 20)")
            }
            for (i, a) in axes.enumerated() {
                out[a] = sizes[i]
                scales[a] = Float(out[a]) / Float(max(1, x.shape[a]))
                lengths[a] = Float(out[a])
            }
        } else if let given = try b.constant(scaleIndex, "scales"), given.count > 0 {
            guard given.count == axes.count else { throw .attribute("scales need \(axes.count) values") }
            for (i, a) in axes.enumerated() {
                scales[a] = given.float(at: i)
                lengths[a] = Float(x.shape[a]) * scales[a]
                guard scales[a] > 0, lengths[a] >= 1, lengths[a] <= Float(1 << 20) else {
                    throw .attribute("scale \(scales[a]) makes an axis of \(x.shape[a]) \(lengths[a]) long")
                }
                out[a] = Int(lengths[a].rounded(.down))
            }
        } else {
            throw .attribute("neither scales nor sizes is given")
        }
        guard scales.allSatisfy({ $0 > 0 && $0.isFinite }), out.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else {
            throw .shape("output \(out) from scales \(scales) is not a valid size")
        }
        _ = try b.bounded(out)
        // Opset 10 has no nearest_mode: onnxruntime floors when enlarging and rounds up when
        // shrinking, and so does convd.
        let legacyNearest = b.opset < 11 && mode == "nearest"
        let outShape = out
        let kernel = Kernel.unary { [scales, lengths] t in
            var value = t
            for a in 0..<rank where value.shape[a] != outShape[a] || scales[a] != 1 {
                value = resizeAxis(value, axis: a, to: outShape[a], resized: lengths[a], scale: scales[a],
                                   linear: mode == "linear", transform: transform,
                                   rounding: legacyNearest && scales[a] < 1 ? "ceil" : rounding)
            }
            return value
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: outShape)])
    }

    /// Where output index `i` of `length` falls in an input axis of `n`.
    static func sourceCoordinate(_ i: Int, n: Int, length: Int, resized: Float, scale: Float, transform: String) -> Float {
        let x = Float(i)
        switch transform {
        case "pytorch_half_pixel": return length > 1 ? (x + 0.5) / scale - 0.5 : 0
        case "align_corners": return length == 1 ? 0 : x * Float(n - 1) / (resized - 1)
        case "asymmetric": return x / scale
        case "tf_half_pixel_for_nn": return (x + 0.5) / scale
        case "half_pixel_symmetric":
            let adjustment = Float(length) / (scale * Float(n)), center = Float(n) / 2
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5
        default: return (x + 0.5) / scale - 0.5
        }
    }

    static func resizeAxis(_ t: OnnxTensor, axis: Int, to length: Int, resized: Float, scale: Float, linear: Bool,
                           transform: String,
                           rounding: String) -> OnnxTensor {
        let n = t.shape[axis]
        let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *)
        // Per output index: two source indices and the weight of the second.
        var taps: [(Int, Int, Float)] = []
        for i in 0..<length {
            let s = sourceCoordinate(i, n: n, length: length, resized: resized, scale: scale, transform: transform)
            if linear {
                let c = min(max(s, 0), Float(n - 1))
                let lo = Int(c.rounded(.down)), hi = min(lo + 1, n - 1)
                taps.append((lo, hi, c - Float(lo)))
            } else {
                var r: Float
                switch rounding {
                case "floor": r = s.rounded(.down)
                case "ceil": r = s.rounded(.up)
                case "round_prefer_ceil": r = s - s.rounded(.down) == 0.5 ? s.rounded(.up) : s.rounded()
                default: r = s - s.rounded(.down) == 0.5 ? s.rounded(.down) : s.rounded()
                }
                let k = Int(min(max(r, 0), Float(n - 1)))
                taps.append((k, k, 0))
            }
        }
        var out = [Float](repeating: 0, count: outer * length * inner)
        for o in 0..<outer {
            for (i, (lo, hi, w)) in taps.enumerated() {
                let dst = (o * length + i) * inner, a = (o * n + lo) * inner, c = (o * n + hi) * inner
                for j in 0..<inner { out[dst + j] = t.floats[a + j] * (1 - w) + t.floats[c + j] * w }
            }
        }
        var shape = t.shape
        shape[axis] = length
        return OnnxTensor(shape: shape, floats: out)
    }
}
