// ChannelOps: operators that combine or convert channels at each pixel: gray/RGB conversion,
// gradient magnitude, 1×1 convolution across channels (conv-semantics.md §2, §4) and the
// per-map normalisations a chain can end with.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How feature maps are rescaled to 0...1 (for display, or as a chain step).
public enum Normalization: String, Sendable, CaseIterable {
    /// `(x - min) / (max - min)` per map; a constant map becomes 0.
    case minmax
    /// `|x| / max|x|` per map; an all-zero map stays 0.
    case abs
    /// `x` clamped to 0...1.
    case clip

    /// Rescales every channel of `input`.
    public func apply(_ input: Tensor) -> Tensor {
        var out = input
        let n = input.planeSize
        for c in 0..<input.channels {
            let range = (c * n)..<((c + 1) * n)
            switch self {
            case .minmax:
                let lo = out.scalars[range].min() ?? 0, hi = out.scalars[range].max() ?? 0
                let span = hi - lo
                for i in range { out.scalars[i] = span > 0 ? (out.scalars[i] - lo) / span : 0 }
            case .abs:
                let top = out.scalars[range].reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
                for i in range { out.scalars[i] = top > 0 ? Swift.abs(out.scalars[i]) / top : 0 }
            case .clip:
                for i in range { out.scalars[i] = Swift.min(Swift.max(out.scalars[i], 0), 1) }
            }
        }
        return out
    }
}

/// Pixel-wise channel operators.
public enum ChannelOps {
    /// ITU-R BT.601 luma weights (as OpenCV's `COLOR_RGB2GRAY`).
    public static let lumaWeights: [Float] = [0.299, 0.587, 0.114]

    /// RGB → one luma channel; a one-channel input is returned as it is.
    public static func gray(_ input: Tensor) -> Tensor {
        input.channels == 1 ? input : conv1x1(input, weights: lumaWeights)
    }

    /// One channel → three equal channels; a three-channel input is returned as it is.
    public static func rgb(_ input: Tensor) -> Tensor {
        input.channels == 3 ? input : Tensor.stacking([input, input, input])
    }

    /// `Σ_c w_c · x_c` at each pixel: a 1×1 convolution to one map.
    public static func conv1x1(_ input: Tensor, weights: [Float]) -> Tensor {
        precondition(weights.count == input.channels, "one weight per channel")
        let n = input.planeSize
        var out = [Float](repeating: 0, count: n)
        input.scalars.withUnsafeBufferPointer { x in
            for (c, w) in weights.enumerated() {
                let plane = x.baseAddress! + c * n
                for i in 0..<n { out[i] += w * plane[i] }
            }
        }
        return Tensor(channels: 1, height: input.height, width: input.width, scalars: out)
    }

    /// `sqrt(Σ_c x_c²)` at each pixel: gradient magnitude of an x/y pair, or of any stack.
    public static func magnitude(_ input: Tensor) -> Tensor {
        let n = input.planeSize
        var out = [Float](repeating: 0, count: n)
        input.scalars.withUnsafeBufferPointer { x in
            for c in 0..<input.channels {
                let plane = x.baseAddress! + c * n
                for i in 0..<n { out[i] += plane[i] * plane[i] }
            }
        }
        for i in 0..<n { out[i] = sqrtf(out[i]) }
        return Tensor(channels: 1, height: input.height, width: input.width, scalars: out)
    }
}
