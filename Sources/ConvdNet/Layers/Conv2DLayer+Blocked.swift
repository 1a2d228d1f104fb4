// Conv2DLayer+Blocked: the inference forward pass on the inference plan's blocked kernel, for
// a layer run on its own (networks the plan does not cover, one image of a large network).
// The output rows of each sample are split over the threads; each thread copies the input
// rows its output rows read into a zero-bordered input of its own (blocked from 16 channels
// on, planar below), convolves them with the weights packed once per weights version, and
// unpacks its rows into the layer's K×N×OH×OW output: one hand-off to the threads per sample,
// and no buffer that two threads write.
import CConvKernels
import ConvdCore

/// The layer's packed weights and one workspace (staged input, blocked output) per thread.
final class BlockedConvState {
    var version = -1
    var packed: BlockedConvWeights?
    var workspaces: [PlanWorkspace] = []
    var sizes: [Int] = []
}

extension Conv2DLayer {
    /// Whether the blocked kernel computes this layer (it takes one padding for all sides).
    var runsBlocked: Bool {
        rows.padBefore == columns.padBefore && rows.padAfter == rows.padBefore && columns.padAfter == columns.padBefore
    }

    /// Output K×N×OH×OW for `input` in inference mode.
    func blockedForward(_ input: BatchTensor, threads: Int) -> BatchTensor {
        let c = inputShape.channels, n = input.batch, border = rows.padBefore
        let (height, width) = (inputShape.height, inputShape.width)
        let version = weight.version &+ (bias?.version ?? 0)
        if blocked.version != version || blocked.packed == nil {
            blocked.packed = BlockedConvWeights(self)
            blocked.version = version
        }
        let packed = blocked.packed!
        let inMap = BlockedMap(channels: c, height: height, width: width, border: border)
        let outMap = BlockedMap(channels: filters, height: outputShape.height, width: outputShape.width, border: 0)
        let planar = c < 16
        let planarRow = width + 2 * border, planarPlane = (height + 2 * border) * planarRow
        let sizes = [planar ? c * planarPlane : inMap.count, outMap.count]
        let chunks = max(1, min(threads, outMap.height))
        if blocked.sizes != sizes { blocked.workspaces = [] }
        blocked.sizes = sizes
        while blocked.workspaces.count < chunks { blocked.workspaces.append(PlanWorkspace(sizes: sizes)) }
        let spaces = blocked.workspaces
        var output = BatchTensor(channels: filters, batch: n, height: outMap.height, width: outMap.width)
        let plane = height * width, outPlane = outMap.height * outMap.width
        let (size, stride, dilation, filters, shape) = (size, rows.stride, rows.dilation, filters, inputShape)
        input.data.withUnsafeBufferPointer { xBuffer in
            output.data.withUnsafeMutableBufferPointer { yBuffer in
                let x = SharedReadPointer(xBuffer.baseAddress!), y = SharedPointer(yBuffer.baseAddress!)
                for sample in 0..<n {
                    parallelFor(chunks, threads: chunks) { range in
                        for chunk in range {
                            let rows = (outMap.height * chunk / chunks)..<(outMap.height * (chunk + 1) / chunks)
                            let staged = spaces[chunk].buffers[0], result = spaces[chunk].buffers[1]
                            // The input rows these output rows read, inside the image.
                            // (None, for rows that read only the bottom padding.)
                            let first = min(height, max(0, rows.lowerBound * stride - border))
                            let last = max(first, min(height, (rows.upperBound - 1) * stride + dilation * (size - 1) - border + 1))
                            let source = x.pointer + sample * plane + first * width
                            let from: BlockedInput
                            if planar {
                                for ch in 0..<c {
                                    for row in first..<last {
                                        (staged + ch * planarPlane + (row + border) * planarRow + border)
                                            .update(from: source + ch * n * plane + (row - first) * width, count: width)
                                    }
                                }
                                from = .planar(UnsafePointer(staged), shape, border: border)
                            } else {
                                convd_pack_blocked(source, n * plane, Int32(c), Int32(last - first), Int32(width),
                                                   staged + inMap.origin + first * inMap.rowStride, inMap.blockStride,
                                                   inMap.rowStride)
                                from = .map(UnsafePointer(staged), inMap)
                            }
                            blockedConvolve(from, channels: c, kernel: size, stride: stride, dilation: dilation, packed,
                                            relu: false, output: result, outMap, rows: rows)
                            convd_unpack_blocked(result + rows.lowerBound * outMap.rowStride, outMap.blockStride,
                                                 outMap.rowStride, Int32(filters), Int32(rows.count),
                                                 Int32(outMap.width), y.pointer + sample * outPlane + rows.lowerBound * outMap.width,
                                                 n * outPlane)
                        }
                    }
                }
            }
        }
        return output
    }
}
