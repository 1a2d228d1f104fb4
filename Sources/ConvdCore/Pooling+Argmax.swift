// Pooling+Argmax: max pooling that also records, for each output, where its value came from
// (what training's backward pass routes the gradient to). Windows wholly inside the map
// (`valid` padding); the values are `pool`'s, and the recorded position is the window's
// first sample equal to the maximum (its top-left sample when the maximum is NaN). The 2×2
// window, the one CNNs use, runs CConvKernels' branch-free loop.
import CConvKernels

extension Pooling {
    /// Max-pools `count` maps of `height×width` into `output` as `pool` does, and writes to
    /// `argmax[o]` the index inside its map of the sample output `o` took.
    public func maxPoolArgmax(maps input: UnsafePointer<Float>, count: Int, height: Int, width: Int,
                              into output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>,
                              threads: Int) {
        precondition(kind == .max && padding == .valid, "maxPoolArgmax takes max pooling without padding")
        let g = geometry(height: height, width: width)
        let oh = g.outputHeight, ow = g.outputWidth, window = window, stride = stride
        let x = SharedReadPointer(input), y = SharedPointer(output), at = SharedPointer(argmax)
        parallelFor(count, threads: threads) { range in
            for m in range {
                let plane = x.pointer + m * height * width, out = y.pointer + m * oh * ow, index = at.pointer + m * oh * ow
                if window == 2 {
                    convd_maxpool2_argmax(plane, Int32(width), Int32(stride), Int32(oh), Int32(ow), out, index)
                    continue
                }
                for i in 0..<oh {
                    for j in 0..<ow {
                        let corner = i * stride * width + j * stride, p = plane + corner
                        var best = p[0]
                        for a in 0..<window { for b in 0..<window { best = Swift.max(best, p[a * width + b]) } }
                        var position = corner
                        search: for a in 0..<window {
                            for b in 0..<window where p[a * width + b] == best {
                                position = corner + a * width + b
                                break search
                            }
                        }
                        out[i * ow + j] = best
                        index[i * ow + j] = Int32(position)
                    }
                }
            }
        }
    }
}
