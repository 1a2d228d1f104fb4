// BlockedConv: an imported Conv of one group on CConvKernels' blocked kernel, the one convd's
// own layers run on. The input planes are packed into blocks of 16 channels (or, with fewer
// than 16 channels, copied as planes) inside a zero border that holds the pads, the kernel
// writes blocked output rows — bias added and ReLU applied in its registers — split over the
// threads, and the result is unpacked to planes.
import CConvKernels
import ConvdCore
import ConvdNet

/// The packed weights and geometry of one Conv.
struct BlockedConv: Sendable {
    let packed: BlockedConvWeights
    let channels: Int
    let outputs: Int
    let window: SpatialWindow

    /// The blocked form of a Conv with constant `weights` (M×C×kh×kw) and `bias`, when the
    /// kernel covers it: one group, the same stride and dilation on both axes.
    init?(weights: [Float], bias: [Float]?, channels: Int, outputs: Int, window: SpatialWindow) {
        guard window.strides[0] == window.strides[1], window.dilations[0] == window.dilations[1] else { return nil }
        let taps = window.kernel[0] * window.kernel[1]
        packed = BlockedConvWeights(outputs: outputs, channels: channels, taps: taps,
                                    weight: { f, c, t in weights[(f * channels + c) * taps + t] },
                                    bias: { f in bias?[f] ?? 0 })
        self.channels = channels
        self.outputs = outputs
        self.window = window
    }

    /// Multiply-adds below which a convolution runs on one thread, and values below which a
    /// layout copy does: waking a second thread costs tens of microseconds here, as much as
    /// a few million multiply-adds.
    static let parallelWork = 1 << 22
    static let parallelCopy = 1 << 20

    /// Bytes one run allocates: the padded input and the blocked output.
    var scratchBytes: Int {
        let inputs = channels >= 16 ? (channels + 15) / 16 * 16 : channels
        let padded = (window.input[0] + window.padBegin[0] + window.padEnd[0])
            * (window.input[1] + window.padBegin[1] + window.padEnd[1])
        return (inputs * padded + (outputs + 15) / 16 * 16 * window.output[0] * window.output[1]) * 4
    }

    /// The convolution of one image's planes `x` (C×H×W) into `out` (M×OH×OW).
    func run(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, relu: Bool, high: Float?, threads: Int) {
        let (h, w) = (window.input[0], window.input[1]), (oh, ow) = (window.output[0], window.output[1])
        let (top, left) = (window.padBegin[0], window.padBegin[1])
        let paddedW = w + left + window.padEnd[1], paddedH = h + top + window.padEnd[0]
        let blocked = channels >= 16
        let lanes = blocked ? 16 : 1
        let inRow = paddedW * lanes, inBlock = paddedH * inRow
        // Zeroed only when there are pads to hold (every interior value is written below).
        let inCount = (blocked ? (channels + 15) / 16 : channels) * inBlock
        let padded = window.padBegin != [0, 0] || window.padEnd != [0, 0]
        var input = padded ? [Float](repeating: 0, count: inCount)
            : [Float](unsafeUninitializedCapacity: inCount) { _, n in n = inCount }
        let outBlocks = (outputs + 15) / 16, outRow = ow * 16, outBlock = oh * outRow
        var output = [Float](unsafeUninitializedCapacity: outBlocks * outBlock) { _, n in n = outBlocks * outBlock }
        input.withUnsafeMutableBufferPointer { ip in
            let origin = ip.baseAddress! + top * inRow + left * lanes
            if blocked {
                // Block by block over the threads.
                let source = SharedReadPointer(x), target = SharedPointer(origin), blocks = (channels + 15) / 16
                let parts = min(threads, blocks, max(1, channels * h * w / Self.parallelCopy))
                parallelFor(blocks, threads: parts) { range in
                    for b in range {
                        convd_pack_blocked(source.pointer + b * 16 * h * w, h * w, Int32(min(16, channels - b * 16)),
                                           Int32(h), Int32(w), target.pointer + b * inBlock, inBlock, inRow)
                    }
                }
            } else {
                for c in 0..<channels {
                    for y in 0..<h { (origin + c * inBlock + y * inRow).update(from: x + (c * h + y) * w, count: w) }
                }
            }
        }
        let chunks = max(1, min(threads, oh, outputs * oh * ow * channels * window.kernel[0] * window.kernel[1]
                                   / Self.parallelWork))
        input.withUnsafeBufferPointer { ip in
            output.withUnsafeMutableBufferPointer { op in
                packed.weights.withUnsafeBufferPointer { wp in
                    packed.bias.withUnsafeBufferPointer { bp in
                        let source = SharedReadPointer(ip.baseAddress!), target = SharedPointer(op.baseAddress!)
                        let weights = SharedReadPointer(wp.baseAddress!), bias = SharedReadPointer(bp.baseAddress!)
                        parallelFor(chunks, threads: chunks) { range in
                            for chunk in range {
                                var p = convd_blocked_conv()
                                p.input = source.pointer
                                p.in_block_stride = inBlock
                                p.in_row_stride = inRow
                                p.in_pixel_stride = lanes
                                p.in_block = Int32(lanes)
                                p.channels = Int32(channels)
                                p.kernel_h = Int32(window.kernel[0])
                                p.kernel_w = Int32(window.kernel[1])
                                p.stride = Int32(window.strides[0])
                                p.dilation = Int32(window.dilations[0])
                                p.weights = weights.pointer
                                p.bias = bias.pointer
                                p.output = target.pointer
                                p.out_block_stride = outBlock
                                p.out_row_stride = outRow
                                p.out_blocks = Int32(outBlocks)
                                p.out_channels = Int32(outputs)
                                p.out_w = Int32(ow)
                                p.row_begin = Int32(chunk * oh / chunks)
                                p.row_end = Int32((chunk + 1) * oh / chunks)
                                p.relu = relu ? 1 : 0
                                p.clamp = high == nil ? 0 : 1
                                p.high = high ?? 0
                                convd_conv_blocked(&p)
                            }
                        }
                    }
                }
                let source = SharedReadPointer(op.baseAddress!), target = SharedPointer(out)
                let parts = min(threads, outBlocks, max(1, outputs * oh * ow / Self.parallelCopy))
                parallelFor(outBlocks, threads: parts) { range in
                    for b in range {
                        convd_unpack_blocked(source.pointer + b * outBlock, outBlock, outRow,
                                             Int32(min(16, outputs - b * 16)), Int32(oh), Int32(ow),
                                             target.pointer + b * 16 * oh * ow, oh * ow)
                    }
                }
            }
        }
    }
}
