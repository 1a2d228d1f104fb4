// Conv2DLayer+WeightGradient: ∂W = ∂Y · colsᵀ for a training forward pass that ran on the
// blocked kernel, without the unfolded input: CConvKernels' weight-gradient kernel
// (weight_gradient.c) reads each sample's input staged as the forward kernel reads it
// (blocked, its zero border the padding: the forward pass's own staged maps when it kept them,
// Conv2DLayer+Blocked.swift's StagedBatch) and the sample's ∂Y blocked. Each thread takes a
// range of samples and sums into accumulators of its own; their sums are added into
// `weight.gradient` at the end.
import CConvKernels
import ConvdCore

extension Conv2DLayer {
    /// Whether ∂W runs on the blocked kernel (after a blocked forward pass): its lanes are input
    /// channels (a first layer on 1 or 3 channels keeps ∂Y · colsᵀ, whose unfolded input is
    /// small there).
    var weightGradientRunsBlocked: Bool { runsBlocked && Self.fillsLanes(inputShape.channels) }

    /// Adds ∂L/∂W for `input` (the forward pass's) and ∂L/∂output `gradient` into the weight's gradient.
    func blockedWeightGradient(input: BatchTensor, gradient: BatchTensor, threads: Int) {
        let channels = inputShape.channels, n = input.batch, filters = filters, size = size
        let map = stagedInputMap
        let (outHeight, outWidth) = (outputShape.height, outputShape.width)
        let plane = inputShape.height * inputShape.width, outPlane = outHeight * outWidth
        let (stride, dilation) = (rows.stride, rows.dilation)
        let sums = size * size * map.blocks * filters * 16
        let chunks = max(1, min(threads, n))
        let outMap = BlockedMap(channels: filters, height: outHeight, width: outWidth, border: 0)
        // The forward pass's staged maps of this batch when it kept them, else staged here.
        let kept = stagedInputs.samples == n ? stagedInputs.buffer.map { SharedReadPointer(UnsafePointer($0)) } : nil
        stagedInputs.samples = 0
        let spaces = weightGradientState.workspaces(chunks, sizes: [map.count, outMap.count, sums])
        input.data.withUnsafeBufferPointer { xBuffer in
            gradient.data.withUnsafeBufferPointer { dyBuffer in
                let x = SharedReadPointer(xBuffer.baseAddress!), dy = SharedReadPointer(dyBuffer.baseAddress!)
                parallelFor(chunks, threads: chunks) { range in
                    for chunk in range {
                        let stagedGradient = spaces[chunk].buffers[1], accumulators = spaces[chunk].buffers[2]
                        accumulators.update(repeating: 0, count: sums)
                        for sample in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                            let staged: UnsafePointer<Float>
                            if let kept {
                                staged = kept.pointer + sample * map.count
                            } else {
                                // Only the inside is written: the border and the lanes past the
                                // channels stay the zeros the workspace was made with.
                                convd_pack_blocked(x.pointer + sample * plane, n * plane, Int32(channels),
                                                   Int32(map.height), Int32(map.width), spaces[chunk].buffers[0] + map.origin,
                                                   map.blockStride, map.rowStride)
                                staged = UnsafePointer(spaces[chunk].buffers[0])
                            }
                            convd_pack_blocked(dy.pointer + sample * outPlane, n * outPlane, Int32(filters),
                                               Int32(outHeight), Int32(outWidth), stagedGradient,
                                               outMap.blockStride, outMap.rowStride)
                            convd_weight_gradient_blocked(staged, map.blockStride, map.rowStride, Int32(map.blocks),
                                                          Int32(size), Int32(stride), Int32(dilation), stagedGradient,
                                                          outMap.blockStride, Int32(filters), Int32(outHeight),
                                                          Int32(outWidth), accumulators)
                        }
                    }
                }
            }
        }
        // Accumulator (tap, block, filter, lane) is weight (filter, 16·block + lane, tap).
        let taps = size * size
        weight.gradient.withUnsafeMutableBufferPointer { dw in
            for space in spaces.prefix(chunks) {
                let accumulators = space.buffers[2]
                for f in 0..<filters {
                    for c in 0..<channels {
                        let lane = ((c / 16) * filters + f) * 16 + c % 16
                        for tap in 0..<taps {
                            dw[(f * channels + c) * taps + tap] += accumulators[tap * map.blocks * filters * 16 + lane]
                        }
                    }
                }
            }
        }
    }
}
