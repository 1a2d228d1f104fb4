// Conv2DLayer+Blocked: the layer's passes on the inference plan's blocked kernel. The
// forward pass (inference, and training where few filter lanes are padding): Y = conv(X)
// with the layer's weights. Training's data gradient at stride 1:
// ∂X = conv(∂Y) with the flipped weights (conv-semantics.md: ∂L/∂X = pad(∂L/∂Z) ⋆ rot180(K)),
// padded by dilation·(size − 1) − padding, in place of Wᵀ·∂Y and col2im.
//
// Both run `blockedConvolution`: a batch of at least as many samples as threads is split
// sample by sample, a smaller one row by row. Each thread copies the input rows its output
// rows read into a zero-bordered input of its own (blocked from 16 channels on, planar
// below), convolves them and unpacks its rows into the C×N×H×W result: one hand-off to the
// threads per batch (or per sample), and no buffer that two threads write.
import CConvKernels
import ConvdCore

/// Packed weights (for the weights version they were packed from) and one workspace (staged
/// input, blocked output) per thread, for one of the layer's blocked passes.
final class BlockedConvState {
    var version = -1
    var packed: BlockedConvWeights?
    var workspaces: [PlanWorkspace] = []
    var sizes: [Int] = []

    /// The packed weights, packed again by `pack` when the weights changed.
    func weights(version: Int, _ pack: () -> BlockedConvWeights) -> BlockedConvWeights {
        if self.version != version || packed == nil {
            packed = pack()
            self.version = version
        }
        return packed!
    }

    /// At least `count` workspaces with buffers of `sizes` floats.
    func workspaces(_ count: Int, sizes: [Int]) -> [PlanWorkspace] {
        if self.sizes != sizes { workspaces = [] }
        self.sizes = sizes
        while workspaces.count < count { workspaces.append(PlanWorkspace(sizes: sizes)) }
        return workspaces
    }
}

/// A training forward pass's staged inputs, one blocked map (zero border included) per sample
/// back to back, kept for the weight gradient, which then stages nothing itself: about the
/// size of the input batch the layer keeps anyway. Only the interiors are ever written, so the
/// borders stay the zeros the buffer was made with.
final class StagedBatch {
    /// The largest batch of staged maps kept (256 MiB); a larger one is staged again by the
    /// weight gradient, sample by sample, as before.
    static let maxFloats = 1 << 26
    private(set) var buffer: UnsafeMutablePointer<Float>?
    private var capacity = 0
    /// Samples the last training forward pass staged here; 0 when it staged none.
    var samples = 0

    /// Room for `count` floats, zero-filled when it is made anew.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let buffer, count <= capacity { return buffer }
        buffer?.deallocate()
        let floats = (max(count, 1) + 15) / 16 * 16
        let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
        let made = raw.initializeMemory(as: Float.self, repeating: 0, count: floats)
        buffer = made
        capacity = floats
        return made
    }

    deinit { buffer?.deallocate() }
}

/// One blocked convolution over a batch: its geometry and its weights.
struct BlockedPass {
    let input: SampleShape
    let output: SampleShape
    let border: Int
    let kernel: Int
    let stride: Int
    let dilation: Int
    let packed: BlockedConvWeights
}

extension Conv2DLayer {
    /// Whether the blocked kernel computes this layer: one padding for all sides, and buffers
    /// (the zero-bordered input, the output's 16-lane blocks) within NetworkLimits' tensor cap,
    /// which the architecture checks held only for the output and the unfolded input.
    var runsBlocked: Bool {
        rows.padBefore == columns.padBefore && rows.padAfter == rows.padBefore && columns.padAfter == columns.padBefore
            && Self.blockedFits(inputShape, border: rows.padBefore) && Self.blockedFits(outputShape, border: 0)
    }

    /// Whether a training forward pass runs on the blocked kernel: its lanes are filters, and
    /// LeNet-5's first layer (6 filters on 16 lanes) is faster as unfold + GEMM; inference
    /// takes the kernel anyway, where it saves the unfold.
    var trainingForwardRunsBlocked: Bool { runsBlocked && Self.fillsLanes(filters) }

    /// Whether `count` channels fill at least half of the 16-lane blocks they take.
    static func fillsLanes(_ count: Int) -> Bool { (count + 15) / 16 * 16 <= 2 * count }

    /// Whether the blocked kernel can compute the data gradient: stride 1, a padding within the
    /// kernel's span, ∂Y's bordered copy within the cap.
    var inputGradientCanRunBlocked: Bool {
        runsBlocked && rows.stride == 1 && rows.dilation * (size - 1) >= rows.padBefore
            && Self.blockedFits(outputShape, border: rows.dilation * (size - 1) - rows.padBefore)
    }

    /// Whether `shape` with its channels in blocks of 16 and a zero border fits the cap.
    static func blockedFits(_ shape: SampleShape, border: Int) -> Bool {
        let lanes = (shape.channels + 15) / 16 * 16
        let (rows, rowOverflow) = (shape.height + 2 * border).multipliedReportingOverflow(by: shape.width + 2 * border)
        let (count, overflow) = rows.multipliedReportingOverflow(by: lanes)
        return !rowOverflow && !overflow && count <= NetworkLimits.maxTensorElements
    }

    /// Whether the data gradient runs blocked: it can, with no more than twice the multiply-adds
    /// of the GEMM form. The blocked kernel computes every lane of a block and every tap, the
    /// zero padding's included; Wᵀ·∂Y only the taps that land inside — far fewer for a large
    /// kernel on a small map (LeNet-5's second layer). (In Double: the products may pass Int.)
    var inputGradientRunsBlocked: Bool {
        guard inputGradientCanRunBlocked else { return false }
        let lanes = Double((inputShape.channels + 15) / 16 * 16), taps = Double(size * size)
        let filters = Double(outputShape.channels)
        let blockedWork = lanes * Double(inputShape.height * inputShape.width) * filters * taps
        let gemmWork = Double(patchSize) * Double(outputShape.height * outputShape.width) * filters
        return blockedWork <= 2 * gemmWork
    }

    private var weightsVersion: Int { weight.version &+ (bias?.version ?? 0) }

    /// One sample's input as the forward kernel and the weight gradient read it: blocked, inside
    /// a zero border of the padding.
    var stagedInputMap: BlockedMap {
        BlockedMap(channels: inputShape.channels, height: inputShape.height, width: inputShape.width,
                   border: rows.padBefore)
    }

    /// Output K×N×OH×OW for `input`; with `keepsStaged`, each sample's staged input stays in
    /// `stagedInputs` for the weight gradient when the pass can keep it (`blockedConvolution`).
    func blockedForward(_ input: BatchTensor, threads: Int, keepsStaged: Bool = false) -> BatchTensor {
        let packed = blocked.weights(version: weightsVersion) { BlockedConvWeights(self) }
        let pass = BlockedPass(input: inputShape, output: outputShape, border: rows.padBefore, kernel: size,
                               stride: rows.stride, dilation: rows.dilation, packed: packed)
        stagedInputs.samples = 0
        return blockedConvolution(pass, input, threads: threads, state: blocked,
                                  keeping: keepsStaged ? stagedInputs : nil)
    }

    /// ∂L/∂input C×N×H×W for ∂L/∂output `gradient` (needs `inputGradientCanRunBlocked`).
    func blockedInputGradient(_ gradient: BatchTensor, threads: Int) -> BatchTensor {
        let packed = blockedGradient.weights(version: weight.version) { BlockedConvWeights(inputGradientOf: self) }
        let pass = BlockedPass(input: outputShape, output: inputShape, border: rows.dilation * (size - 1) - rows.padBefore,
                               kernel: size, stride: 1, dilation: rows.dilation, packed: packed)
        return blockedConvolution(pass, gradient, threads: threads, state: blockedGradient)
    }
}

/// `pass` over every sample of `input`, on up to `threads` threads, with `state`'s workspaces.
/// With `keeping`, a pass that stages whole blocked samples (16 channels or more, a sample per
/// thread) into at most `StagedBatch.maxFloats` stages sample n at n · (its blocked map's size)
/// in that buffer, leaves it there and sets its `samples`; any other pass keeps nothing.
func blockedConvolution(_ pass: BlockedPass, _ input: BatchTensor, threads: Int, state: BlockedConvState,
                        keeping: StagedBatch? = nil) -> BatchTensor {
    let c = pass.input.channels, n = input.batch, border = pass.border
    let (height, width) = (pass.input.height, pass.input.width)
    let inMap = BlockedMap(channels: c, height: height, width: width, border: border)
    let outMap = BlockedMap(channels: pass.output.channels, height: pass.output.height, width: pass.output.width,
                            border: 0)
    let planar = c < 16
    let planarCount = c * (height + 2 * border) * (width + 2 * border)
    // Samples per thread when there are enough of them, else rows of each sample.
    let bySample = n >= threads
    let chunks = max(1, bySample ? min(threads, n) : min(threads, outMap.height))
    let (keptFloats, overflow) = n.multipliedReportingOverflow(by: inMap.count)
    let kept = keeping.flatMap { staged -> SharedPointer<Float>? in
        guard !planar && bySample && !overflow && keptFloats <= StagedBatch.maxFloats else { return nil }
        staged.samples = n
        return SharedPointer(staged.reserve(keptFloats))
    }
    let spaces = state.workspaces(chunks, sizes: [planar ? planarCount : inMap.count, outMap.count])
    var output = BatchTensor(channels: outMap.channels, batch: n, height: outMap.height, width: outMap.width)
    let plane = height * width, outPlane = outMap.height * outMap.width
    input.data.withUnsafeBufferPointer { xBuffer in
        output.data.withUnsafeMutableBufferPointer { yBuffer in
            let x = SharedReadPointer(xBuffer.baseAddress!), y = SharedPointer(yBuffer.baseAddress!)
            // Output rows `rows` of sample `sample` on workspace `space`.
            let run: @Sendable (Int, Range<Int>, PlanWorkspace) -> Void = { sample, rows, space in
                let staged = kept.map { $0.pointer + sample * inMap.count } ?? space.buffers[0]
                let result = space.buffers[1]
                // The input rows these output rows read, inside the image (none for rows
                // that read only the bottom padding).
                let first = min(height, max(0, rows.lowerBound * pass.stride - border))
                let last = max(first, min(height, (rows.upperBound - 1) * pass.stride
                                              + pass.dilation * (pass.kernel - 1) - border + 1))
                let source = x.pointer + sample * plane + first * width
                let from: BlockedInput
                if planar {
                    stagePlanar(x.pointer + sample * plane, planeStride: n * plane, pass.input, rows: first..<last,
                                border: border, into: staged)
                    from = .planar(UnsafePointer(staged), pass.input, border: border)
                } else {
                    convd_pack_blocked(source, n * plane, Int32(c), Int32(last - first), Int32(width),
                                       staged + inMap.origin + first * inMap.rowStride, inMap.blockStride,
                                       inMap.rowStride)
                    from = .map(UnsafePointer(staged), inMap)
                }
                blockedConvolve(from, channels: c, kernel: pass.kernel, stride: pass.stride, dilation: pass.dilation,
                                pass.packed, relu: false, output: result, outMap, rows: rows)
                convd_unpack_blocked(result + rows.lowerBound * outMap.rowStride, outMap.blockStride, outMap.rowStride,
                                     Int32(outMap.channels), Int32(rows.count), Int32(outMap.width),
                                     y.pointer + sample * outPlane + rows.lowerBound * outMap.width, n * outPlane)
            }
            if bySample {
                parallelFor(chunks, threads: chunks) { range in
                    for chunk in range {
                        for sample in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                            run(sample, 0..<outMap.height, spaces[chunk])
                        }
                    }
                }
            } else {
                for sample in 0..<n {
                    parallelFor(chunks, threads: chunks) { range in
                        for chunk in range {
                            run(sample, (outMap.height * chunk / chunks)..<(outMap.height * (chunk + 1) / chunks),
                                spaces[chunk])
                        }
                    }
                }
            }
        }
    }
    return output
}
