// InferencePlan+Run: running a plan over a batch, image by image, the batch's images split
// into one run per thread, each run with its own workspace. Weights are read-only and shared.
// A batch smaller than the threads (one image, as the daemon classifies) gives each run's
// convolutions the threads left over, their output rows split between them.
import CConvKernels
import ConvdCore

/// One thread's buffers for a plan, zero-filled once: steps write only the interiors of their
/// maps, so the zero borders the next convolution reads stay zero from image to image. Each
/// buffer has whole cache lines of its own: two threads' workspaces never share a line.
final class PlanWorkspace: @unchecked Sendable {
    let buffers: [UnsafeMutablePointer<Float>]

    init(sizes: [Int]) {
        buffers = sizes.map { count in
            let floats = (max(count, 1) + 15) / 16 * 16
            let raw = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: floats)
        }
    }

    deinit {
        for pointer in buffers { pointer.deallocate() }
    }
}

extension InferencePlan {
    /// Logits K×N for `input` (C×N×H×W), on up to `threads` threads; `workspaces` grows to one
    /// per thread and is kept by the caller for the next batch.
    func infer(_ input: BatchTensor, threads: Int, workspaces: inout [PlanWorkspace]) -> BatchTensor {
        precondition(input.channels == self.input.channels && input.height == self.input.height
            && input.width == self.input.width, "input does not match the plan")
        let n = input.batch, runs = max(1, min(threads, n)), perRun = max(1, threads / runs)
        while workspaces.count < runs { workspaces.append(PlanWorkspace(sizes: bufferSizes)) }
        var output = BatchTensor(channels: outputCount, batch: n, height: 1, width: 1)
        let spaces = workspaces
        input.data.withUnsafeBufferPointer { xBuffer in
            output.data.withUnsafeMutableBufferPointer { yBuffer in
                guard let xBase = xBuffer.baseAddress, let yBase = yBuffer.baseAddress else { return }
                let x = SharedReadPointer(xBase), y = SharedPointer(yBase)
                parallelFor(runs, threads: runs) { range in
                    for r in range {
                        let samples = (n * r / runs)..<(n * (r + 1) / runs)
                        // Several images to a run: the dense tail for a chunk of them at once.
                        if let tail = self.denseTail, samples.count >= 4 {
                            self.runWithDenseTail(x.pointer, batch: n, samples: samples, tail: tail,
                                                  workspace: spaces[r], logits: y.pointer, stride: n)
                            continue
                        }
                        for sample in samples {
                            self.run(x.pointer, batch: n, sample: sample, workspace: spaces[r],
                                     logits: y.pointer + sample, stride: n, threads: perRun)
                        }
                    }
                }
            }
        }
        return output
    }

    /// Image `sample` of the C×N×H×W batch at `x` through every step, its convolutions on up to
    /// `threads` threads; logit k goes to `logits[k * stride]`.
    func run(_ x: UnsafePointer<Float>, batch: Int, sample: Int, workspace: PlanWorkspace,
             logits: UnsafeMutablePointer<Float>, stride: Int, threads: Int = 1) {
        runSteps(x, batch: batch, sample: sample, workspace: workspace, upTo: steps.count, threads: threads)
        let out = workspace.buffers[outputBuffer]
        for k in 0..<outputCount { logits[k * stride] = out[k] }
    }

    /// Image `sample` staged and through the steps before `upTo`.
    func runSteps(_ x: UnsafePointer<Float>, batch: Int, sample: Int, workspace: PlanWorkspace, upTo: Int,
                  threads: Int = 1) {
        let b = workspace.buffers
        let plane = input.height * input.width, first = x + sample * plane, planeStride = batch * plane
        switch inputValue {
        case let .planar(buffer, shape, border):
            stagePlanar(first, planeStride: planeStride, shape, rows: 0..<shape.height, border: border, into: b[buffer])
        case let .map(buffer, m):
            convd_pack_blocked(first, planeStride, Int32(m.channels), Int32(m.height), Int32(m.width),
                               b[buffer] + m.origin, m.blockStride, m.rowStride)
        case .flat, .vector:
            preconditionFailure("a plan's input is planar or a map")
        }
        for step in steps[..<upTo] { execute(step, b, threads: threads) }
    }

    private func execute(_ step: PlanStep, _ b: [UnsafeMutablePointer<Float>], threads: Int) {
        switch step {
        case let .conv(conv):
            convolve(conv, b, threads: threads)
        case let .dense(dense):
            dense.weights.withUnsafeBufferPointer { w in
                dense.bias.withUnsafeBufferPointer { bias in
                    convd_dense(w.baseAddress!, bias.baseAddress!, b[dense.input], Int32(dense.units),
                                Int32(dense.inputs), b[dense.output], dense.relu ? 1 : 0)
                }
            }
        case let .pool(input, m, output, om, size, stride, average):
            convd_pool_blocked(b[input] + m.origin, m.blockStride, m.rowStride, Int32(m.blocks), Int32(om.height),
                               Int32(om.width), Int32(size), Int32(stride), average ? 1 : 0, b[output] + om.origin,
                               om.blockStride, om.rowStride)
        case let .globalAverage(input, m, output, om):
            let scale = 1 / Float(m.height * m.width)
            for block in 0..<m.blocks {
                var sums = SIMD16<Float>(repeating: 0)
                for row in 0..<m.height {
                    let line = b[input] + m.origin + block * m.blockStride + row * m.rowStride
                    for x in 0..<m.width {
                        sums += UnsafeRawPointer(line + x * 16).loadUnaligned(as: SIMD16<Float>.self)
                    }
                }
                let out = b[output] + om.origin + block * om.blockStride
                for lane in 0..<16 { out[lane] = sums[lane] * scale }
            }
        case let .activation(function, buffer, region):
            forEachRow(region, b[buffer]) { row, _ in function.apply(inPlace: row) }
        case let .affine(scale, shift, buffer, region):
            forEachRow(region, b[buffer]) { row, first in
                // Maps: row i is lane i % 16 of its block; vectors: one row, index i.
                let lanes: Int
                if case .map = region { lanes = 16 } else { lanes = row.count }
                for i in row.indices { row[i] = row[i] * scale[first + i % lanes] + shift[first + i % lanes] }
            }
        }
    }

    /// `body` on each contiguous run of an element-wise region: a map's interior rows (with the
    /// offset of their block's first lane position) or the whole vector (offset 0).
    private func forEachRow(_ region: PlanRegion, _ base: UnsafeMutablePointer<Float>,
                            _ body: (UnsafeMutableBufferPointer<Float>, Int) -> Void) {
        switch region {
        case let .map(m):
            for block in 0..<m.blocks {
                for row in 0..<m.height {
                    body(UnsafeMutableBufferPointer(start: base + m.origin + block * m.blockStride + row * m.rowStride,
                                                    count: m.width * 16), block * 16)
                }
            }
        case let .vector(count):
            body(UnsafeMutableBufferPointer(start: base, count: count), 0)
        }
    }

    /// Multiply-adds below which a convolution of one image stays on one thread.
    static let parallelWork = 1 << 17

    private func convolve(_ step: ConvStep, _ b: [UnsafeMutablePointer<Float>], threads: Int) {
        let input: BlockedInput
        switch step.input {
        case let .planar(buffer, shape, border): input = .planar(UnsafePointer(b[buffer]), shape, border: border)
        case let .map(buffer, m): input = .map(UnsafePointer(b[buffer]), m)
        case .flat, .vector: preconditionFailure("a convolution reads a planar image or a map")
        }
        let height = step.map.height
        let work = height * step.map.width * step.map.channels * step.channels * step.kernel * step.kernel
        let parts = work >= Self.parallelWork ? min(threads, height) : 1
        let output = SharedPointer(b[step.output])
        parallelFor(parts, threads: parts) { range in
            for part in range {
                blockedConvolve(input, channels: step.channels, kernel: step.kernel, stride: step.stride,
                                dilation: step.dilation, step.packed, relu: step.relu, output: output.pointer,
                                step.map, rows: (height * part / parts)..<(height * (part + 1) / parts))
            }
        }
    }
}
