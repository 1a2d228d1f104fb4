// BlockedConv: an imported Conv on CConvKernels' blocked kernels, the ones convd's own layers
// run on — one group on the blocked convolution, depthwise on the blocked depthwise kernel.
// Outputs stay blocked (OnnxTensor.blocked), so a chain of convolutions, ReLUs and residual
// Adds never changes layout; the graph unpacks a value only for an operator that needs NCHW.
// An input is brought to the kernel's form inside a zero border that holds the pads: packed
// from planes (or, with fewer than 16 channels, copied as planes), or, already blocked, used
// as it is when there are no pads and copied row by row when there are. Bias, ReLU and a
// ReLU6 clamp are applied in the kernels' registers; output rows or blocks are split over the
// threads when the work pays for waking them.
import CConvKernels
import ConvdCore
import ConvdNet

/// The packed weights and geometry of one Conv.
struct BlockedConv: Sendable {
    enum Weights: Sendable {
        /// All input channels to every output: the blocked convolution's packing.
        case full(BlockedConvWeights)
        /// One input channel per output (depthwise): taps [block][kh][kw][16], bias [block][16].
        case depthwise(taps: [Float], bias: [Float])
    }

    let weights: Weights
    let channels: Int
    let outputs: Int
    let window: SpatialWindow

    /// Multiply-adds below which a convolution runs on one thread, and values below which a
    /// layout copy does. With WorkPool's spinning helpers a region costs a few microseconds
    /// (Dispatch's wake-ups cost tens, and these were 64 times higher then): MobileNetV2 at
    /// batch 1 on 2 threads went from 7.6 to 5.4 ms.
    static let parallelWork = 1 << 16
    static let parallelCopy = 1 << 14

    /// The blocked form of a Conv with constant `weights` (M×C/groups×kh×kw) and `bias`, when
    /// a kernel covers it: one group or depthwise, the same stride and dilation on both axes
    /// (depthwise: any).
    init?(weights: [Float], bias: [Float]?, channels: Int, outputs: Int, groups: Int, window: SpatialWindow) {
        let taps = window.kernel[0] * window.kernel[1]
        if groups == 1 {
            guard window.strides[0] == window.strides[1], window.dilations[0] == window.dilations[1] else { return nil }
            self.weights = .full(BlockedConvWeights(outputs: outputs, channels: channels, taps: taps,
                                                    weight: { f, c, t in weights[(f * channels + c) * taps + t] },
                                                    bias: { f in bias?[f] ?? 0 }))
        } else if groups == channels && outputs == channels {
            let blocks = (channels + 15) / 16
            var packed = [Float](repeating: 0, count: blocks * taps * 16), biases = [Float](repeating: 0, count: blocks * 16)
            for c in 0..<channels {
                for t in 0..<taps { packed[((c / 16) * taps + t) * 16 + c % 16] = weights[c * taps + t] }
                biases[c] = bias?[c] ?? 0
            }
            self.weights = .depthwise(taps: packed, bias: biases)
        } else {
            return nil
        }
        self.channels = channels
        self.outputs = outputs
        self.window = window
    }

    var inputBlocks: Int { (channels + 15) / 16 }
    var outputBlocks: Int { (outputs + 15) / 16 }
    /// Whether the kernel reads the pads from a zero border (the depthwise kernel skips them).
    var padded: Bool {
        if case .depthwise = weights { return false }
        return window.padBegin != [0, 0] || window.padEnd != [0, 0]
    }
    var paddedHeight: Int { window.input[0] + (padded ? window.padBegin[0] + window.padEnd[0] : 0) }
    var paddedWidth: Int { window.input[1] + (padded ? window.padBegin[1] + window.padEnd[1] : 0) }

    /// Bytes one run allocates: the padded input and the blocked output.
    var scratchBytes: Int {
        (inputBlocks * 16 * paddedHeight * paddedWidth + outputBlocks * 16 * window.output[0] * window.output[1]) * 4
    }

    /// The convolution of `x` (N×C×H×W, planar or blocked), blocked.
    func run(_ x: OnnxTensor, relu: Bool, high: Float?, threads: Int) -> OnnxTensor {
        let batch = x.shape[0], plane = window.output[0] * window.output[1]
        let perImage = outputBlocks * 16 * plane
        var out = [Float](unsafeUninitializedCapacity: batch * perImage) { _, n in n = batch * perImage }
        let inputStride = (x.blocked ? inputBlocks * 16 : channels) * window.input[0] * window.input[1]
        let blocked = x.blocked
        x.floats.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                let source = SharedReadPointer(xp.baseAddress!), target = SharedPointer(op.baseAddress!)
                // A batch is split by image over the threads (each image's convolution then on
                // one thread: no waking per layer); a single image by rows or blocks.
                let imagesAtOnce = min(threads, batch)
                parallelFor(batch, threads: imagesAtOnce) { images in
                    for n in images {
                        let inner = imagesAtOnce > 1 ? 1 : threads
                        withInput(source.pointer + n * inputStride, blocked: blocked, threads: inner) { input in
                            convolve(input, into: target.pointer + n * perImage, relu: relu, high: high, threads: inner)
                        }
                    }
                }
            }
        }
        return OnnxTensor(blockedShape: [batch, outputs] + window.output, floats: out)
    }

    /// Where the kernel reads one image: the corner of its padded form and the strides.
    struct Input {
        let pointer: UnsafePointer<Float>
        let blockStride: Int
        let rowStride: Int
        /// 16 for blocked maps, 1 for planes.
        let lanes: Int
    }

    /// Calls `body` with one image in the kernel's form: blocked (planar only for a
    /// convolution of fewer than 16 channels), inside the border the pads need.
    private func withInput(_ x: UnsafePointer<Float>, blocked: Bool, threads: Int, _ body: (Input) -> Void) {
        let (h, w) = (window.input[0], window.input[1])
        let (top, left) = padded ? (window.padBegin[0], window.padBegin[1]) : (0, 0)
        if blocked && !padded {
            body(Input(pointer: x, blockStride: h * w * 16, rowStride: w * 16, lanes: 16))
            return
        }
        let planes: Bool
        if case .full = weights { planes = !blocked && channels < 16 } else { planes = false }
        let lanes = planes ? 1 : 16, count = planes ? channels : inputBlocks
        let rowStride = paddedWidth * lanes, blockStride = paddedHeight * rowStride
        // Zeroed where the pads are, and where a last partial block has lanes no channel fills.
        var buffer = padded || (!planes && channels % 16 != 0) ? [Float](repeating: 0, count: count * blockStride)
            : [Float](unsafeUninitializedCapacity: count * blockStride) { _, n in n = count * blockStride }
        buffer.withUnsafeMutableBufferPointer { bp in
            let origin = bp.baseAddress! + top * rowStride + left * lanes
            if planes {
                for c in 0..<channels {
                    for y in 0..<h { (origin + c * blockStride + y * rowStride).update(from: x + (c * h + y) * w, count: w) }
                }
            } else {
                let source = SharedReadPointer(x), target = SharedPointer(origin), channels = channels
                let parts = min(threads, count, max(1, channels * h * w / Self.parallelCopy))
                parallelFor(count, threads: parts) { range in
                    for b in range {
                        if blocked {
                            for y in 0..<h {
                                (target.pointer + b * blockStride + y * rowStride)
                                    .update(from: source.pointer + (b * h + y) * w * 16, count: w * 16)
                            }
                        } else {
                            convd_pack_blocked(source.pointer + b * 16 * h * w, h * w, Int32(min(16, channels - b * 16)),
                                               Int32(h), Int32(w), target.pointer + b * blockStride, blockStride, rowStride)
                        }
                    }
                }
            }
            body(Input(pointer: UnsafePointer(bp.baseAddress!), blockStride: blockStride, rowStride: rowStride,
                       lanes: lanes))
        }
    }

    /// The kernel over one image, into its blocked output.
    private func convolve(_ input: Input, into out: UnsafeMutablePointer<Float>, relu: Bool, high: Float?,
                          threads: Int) {
        let (oh, ow) = (window.output[0], window.output[1]), outBlock = oh * ow * 16
        let source = SharedReadPointer(input.pointer), target = SharedPointer(out)
        let taps = window.kernel[0] * window.kernel[1]
        let (blockStride, rowStride, lanes) = (input.blockStride, input.rowStride, input.lanes)
        switch weights {
        case .full(let packed):
            let chunks = max(1, min(threads, oh, outputs * oh * ow * channels * taps / Self.parallelWork))
            // Rows that do not divide evenly (7 rows on 2 threads: 4 against 3, a seventh of the
            // time lost on ResNet's last stage) are not split; the output blocks are, in pairs
            // (the kernel's tiles are two blocks wide).
            let byBlocks = chunks > 1 && oh % chunks != 0 && outputBlocks >= 2 * chunks
            let pairs = (outputBlocks + 1) / 2, blockWeights = channels * taps * 16
            packed.weights.withUnsafeBufferPointer { wp in
                packed.bias.withUnsafeBufferPointer { bp in
                    let weights = SharedReadPointer(wp.baseAddress!), bias = SharedReadPointer(bp.baseAddress!)
                    parallelFor(chunks, threads: chunks) { range in
                        for chunk in range {
                            let first = byBlocks ? min(outputBlocks, 2 * (chunk * pairs / chunks)) : 0
                            let end = byBlocks ? min(outputBlocks, 2 * ((chunk + 1) * pairs / chunks)) : outputBlocks
                            var p = convd_blocked_conv()
                            p.input = source.pointer
                            p.in_block_stride = blockStride
                            p.in_row_stride = rowStride
                            p.in_pixel_stride = lanes
                            p.in_block = Int32(lanes)
                            p.channels = Int32(channels)
                            p.kernel_h = Int32(window.kernel[0])
                            p.kernel_w = Int32(window.kernel[1])
                            p.stride = Int32(window.strides[0])
                            p.dilation = Int32(window.dilations[0])
                            p.weights = weights.pointer + first * blockWeights
                            p.bias = bias.pointer + first * 16
                            p.output = target.pointer + first * outBlock
                            p.out_block_stride = outBlock
                            p.out_row_stride = ow * 16
                            p.out_blocks = Int32(end - first)
                            p.out_channels = Int32(min(outputs - first * 16, (end - first) * 16))
                            p.out_w = Int32(ow)
                            p.row_begin = Int32(byBlocks ? 0 : chunk * oh / chunks)
                            p.row_end = Int32(byBlocks ? oh : (chunk + 1) * oh / chunks)
                            p.relu = relu ? 1 : 0
                            p.clamp = high == nil ? 0 : 1
                            p.high = high ?? 0
                            convd_conv_blocked(&p)
                        }
                    }
                }
            }
        case .depthwise(let packed, let biases):
            let parts = max(1, min(threads, outputBlocks, outputs * oh * ow * taps / Self.parallelWork))
            packed.withUnsafeBufferPointer { wp in
                biases.withUnsafeBufferPointer { bp in
                    let weights = SharedReadPointer(wp.baseAddress!), bias = SharedReadPointer(bp.baseAddress!)
                    let blocks = outputBlocks
                    parallelFor(blocks, threads: parts) { range in
                        convd_depthwise_blocked(source.pointer, blockStride, Int32(window.input[0]),
                                                Int32(window.input[1]), weights.pointer, bias.pointer,
                                                Int32(window.kernel[0]), Int32(window.kernel[1]),
                                                Int32(window.strides[0]), Int32(window.strides[1]),
                                                Int32(window.dilations[0]), Int32(window.dilations[1]),
                                                Int32(window.padBegin[0]), Int32(window.padBegin[1]), target.pointer,
                                                outBlock, Int32(oh), Int32(ow), Int32(range.lowerBound),
                                                Int32(range.upperBound), relu ? 1 : 0, high == nil ? 0 : 1, high ?? 0)
                    }
                }
            }
        }
    }
}
