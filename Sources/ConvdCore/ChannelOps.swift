// ChannelOps: operators that combine or convert channels at each pixel: gray/RGB conversion,
// gradient magnitude, 1×1 convolution across channels (conv-semantics.md §2, §4). The per-map
// normalisations are in Normalization.swift.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
