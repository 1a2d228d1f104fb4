// ChannelOps: operators that combine or convert channels at each pixel: gray/RGB conversion,
// gradient magnitude, 1×1 convolution across channels (conv-semantics.md §2, §4). The per-map
// normalisations are in Normalization.swift.
import CConvKernels

/// Pixel-wise channel operators.
public enum ChannelOps {
    /// ITU-R BT.601 luma weights (as OpenCV's `COLOR_RGB2GRAY`).
    public static let lumaWeights: [Float] = [0.299, 0.587, 0.114]

    /// RGB → one luma channel; a one-channel input is returned as it is.
    public static func gray(_ input: Tensor, threads: Int = 1) -> Tensor {
        input.channels == 1 ? input : conv1x1(input, weights: lumaWeights, threads: threads)
    }

    /// One channel → three equal channels; a three-channel input is returned as it is.
    public static func rgb(_ input: Tensor) -> Tensor {
        input.channels == 3 ? input : Tensor.stacking([input, input, input])
    }

    /// `Σ_c w_c · x_c` at each pixel: a 1×1 convolution to one map.
    public static func conv1x1(_ input: Tensor, weights: [Float], threads: Int = 1) -> Tensor {
        precondition(weights.count == input.channels, "one weight per channel")
        let channels = Int32(input.channels), plane = input.planeSize
        return oneMap(like: input, threads: threads) { src, dst, count in
            weights.withUnsafeBufferPointer { w in
                convd_weighted_channel_sum(src, plane, count, channels, w.baseAddress!, dst)
            }
        }
    }

    /// `sqrt(Σ_c x_c²)` at each pixel: gradient magnitude of an x/y pair, or of any stack.
    public static func magnitude(_ input: Tensor, threads: Int = 1) -> Tensor {
        let channels = Int32(input.channels), plane = input.planeSize
        return oneMap(like: input, threads: threads) { src, dst, count in
            convd_channel_magnitude(src, plane, count, channels, dst)
        }
    }

    /// Pixels per thread below which a channel operator stays on one thread.
    static let pixelsPerThread = 1 << 16

    /// A one-channel map of `input`'s size, filled by `body(input samples, output samples,
    /// count)` over ranges of pixels split across up to `threads` threads (these passes are
    /// bound by memory, which one thread does not saturate).
    private static func oneMap(like input: Tensor, threads: Int,
                               _ body: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)
        -> Tensor {
        var out = Tensor.uninitialized(TensorShape(channels: 1, height: input.height, width: input.width))
        let pixels = input.planeSize
        let chunks = max(1, min(threads, pixels / pixelsPerThread))
        input.scalars.withUnsafeBufferPointer { x in
            out.scalars.withUnsafeMutableBufferPointer { o in
                // Arrays give a base address even when empty; the output is not initialised.
                guard let src = x.baseAddress, let dst = o.baseAddress else { preconditionFailure("no storage") }
                let source = SharedReadPointer(src), target = SharedPointer(dst)
                parallelFor(pixels, threads: chunks) { range in
                    body(source.pointer + range.lowerBound, target.pointer + range.lowerBound, range.count)
                }
            }
        }
        return out
    }
}
