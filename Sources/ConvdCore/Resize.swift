// Resize: area averaging when shrinking (each output pixel is the mean of the input area it
// covers, as OpenCV's INTER_AREA), bilinear interpolation when enlarging (pixel centres
// aligned, as OpenCV's INTER_LINEAR), chosen per axis pair by the overall direction.

/// Image resizing for model inputs.
public enum Resize {
    /// How pixels are interpolated.
    public enum Method: String, Sendable, CaseIterable {
        /// Area averaging when shrinking, bilinear when enlarging.
        case area
        /// Bilinear both ways (pixel centres aligned).
        case linear
        /// The nearest pixel (centres aligned).
        case nearest
    }

    /// Resizes every channel of `input` to `height×width`.
    public static func apply(_ input: Tensor, height: Int, width: Int, method: Method = .area) -> Tensor {
        precondition(height > 0 && width > 0, "target size must be positive")
        if input.height == height && input.width == width { return input }
        let shrinking = height * width <= input.height * input.width
        var out = Tensor(channels: input.channels, height: height, width: width)
        for c in 0..<input.channels {
            for y in 0..<height {
                for x in 0..<width {
                    switch method {
                    case .area where shrinking: out[c, y, x] = area(input, c, y, x, height, width)
                    case .area, .linear: out[c, y, x] = bilinear(input, c, y, x, height, width)
                    case .nearest:
                        out[c, y, x] = input[c, min(input.height - 1, (2 * y + 1) * input.height / (2 * height)),
                                             min(input.width - 1, (2 * x + 1) * input.width / (2 * width))]
                    }
                }
            }
        }
        return out
    }

    /// The centred `height×width` window of `input` (which must be at least that large).
    public static func centreCrop(_ input: Tensor, height: Int, width: Int) -> Tensor {
        precondition(input.height >= height && input.width >= width, "crop larger than the image")
        if input.height == height && input.width == width { return input }
        let top = (input.height - height) / 2, left = (input.width - width) / 2
        var out = Tensor(channels: input.channels, height: height, width: width)
        for c in 0..<input.channels {
            for y in 0..<height {
                for x in 0..<width { out[c, y, x] = input[c, top + y, left + x] }
            }
        }
        return out
    }

    private static func area(_ t: Tensor, _ c: Int, _ y: Int, _ x: Int, _ h: Int, _ w: Int) -> Float {
        let sy = Double(t.height) / Double(h), sx = Double(t.width) / Double(w)
        let y0 = Double(y) * sy, y1 = y0 + sy, x0 = Double(x) * sx, x1 = x0 + sx
        var sum = 0.0, weight = 0.0
        for iy in Int(y0)..<min(t.height, Int(y1.rounded(.up))) {
            let wy = min(y1, Double(iy + 1)) - max(y0, Double(iy))
            guard wy > 0 else { continue }
            for ix in Int(x0)..<min(t.width, Int(x1.rounded(.up))) {
                let wx = min(x1, Double(ix + 1)) - max(x0, Double(ix))
                guard wx > 0 else { continue }
                sum += Double(t[c, iy, ix]) * wy * wx
                weight += wy * wx
            }
        }
        return Float(weight > 0 ? sum / weight : 0)
    }

    private static func bilinear(_ t: Tensor, _ c: Int, _ y: Int, _ x: Int, _ h: Int, _ w: Int) -> Float {
        let fy = max(0, min(Double(t.height - 1), (Double(y) + 0.5) * Double(t.height) / Double(h) - 0.5))
        let fx = max(0, min(Double(t.width - 1), (Double(x) + 0.5) * Double(t.width) / Double(w) - 0.5))
        let y0 = Int(fy), x0 = Int(fx), y1 = min(y0 + 1, t.height - 1), x1 = min(x0 + 1, t.width - 1)
        let dy = Float(fy - Double(y0)), dx = Float(fx - Double(x0))
        let top = t[c, y0, x0] * (1 - dx) + t[c, y0, x1] * dx
        let bottom = t[c, y1, x0] * (1 - dx) + t[c, y1, x1] * dx
        return top * (1 - dy) + bottom * dy
    }
}
