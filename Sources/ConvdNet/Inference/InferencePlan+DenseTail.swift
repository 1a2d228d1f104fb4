// InferencePlan+DenseTail: the fully connected layers that end a plan (LeNet-5's 400→120→84→10)
// run for a chunk of images at once. Image by image, each of those layers reads its whole
// weight matrix from the cache for one matrix-vector product; for a chunk it is one matrix
// product (GEMM), each weight loaded once for all the chunk's images. The steps before the
// tail still run image by image; the tail's element-wise steps run row by row.
import ConvdCore

extension InferencePlan {
    /// Images per chunk of the dense tail.
    static let tailChunk = 32

    /// Where the dense tail starts: the first of the steps that are all fully connected layers
    /// and element-wise steps on their whole outputs, each reading the value the one before
    /// made, the last one making the logits; nil when the plan does not end that way.
    static func denseTailStart(_ steps: [PlanStep], outputBuffer: Int) -> Int? {
        var start = steps.count
        while start > 0, steps[start - 1].fitsDenseTail { start -= 1 }
        // The first tail step must be a dense layer, and the values must flow step to step.
        while start < steps.count, !steps[start].isDense { start += 1 }
        guard start < steps.count, case let .dense(first) = steps[start] else { return nil }
        var current = first.input, width = first.inputs
        for step in steps[start...] {
            switch step {
            case let .dense(d):
                guard d.input == current, d.inputs == width else { return nil }
                (current, width) = (d.output, d.units)
            case let .activation(_, buffer, .vector(count)), let .affine(_, _, buffer, .vector(count)):
                // Over the whole of the last layer's output, as the rows are.
                guard buffer == current, count == width else { return nil }
            default:
                return nil
            }
        }
        return current == outputBuffer ? start : nil
    }

    /// Images `samples` of the C×N×H×W batch at `x`: each through the steps before the tail
    /// (starting at `tail`), then the tail for all of them; logit k of image s goes to
    /// `logits[s + k * stride]`.
    func runWithDenseTail(_ x: UnsafePointer<Float>, batch: Int, samples: Range<Int>, tail: Int,
                          workspace: PlanWorkspace, logits: UnsafeMutablePointer<Float>, stride: Int) {
        guard case let .dense(first) = steps[tail] else { preconditionFailure("the tail starts with a dense layer") }
        let widest = steps[tail...].reduce(first.inputs) { widest, step in
            if case let .dense(d) = step { return max(widest, d.units) }
            return widest
        }
        var rows = [Float](repeating: 0, count: Self.tailChunk * widest)
        var products = [Float](repeating: 0, count: Self.tailChunk * widest)
        let b = workspace.buffers
        for chunkStart in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: Self.tailChunk) {
            let chunk = chunkStart..<min(chunkStart + Self.tailChunk, samples.upperBound)
            for (row, sample) in chunk.enumerated() {
                runSteps(x, batch: batch, sample: sample, workspace: workspace, upTo: tail)
                rows.withUnsafeMutableBufferPointer { r in
                    (r.baseAddress! + row * first.inputs).update(from: b[first.input], count: first.inputs)
                }
            }
            var width = first.inputs
            for step in steps[tail...] {
                switch step {
                case let .dense(d):
                    denseRows(d, count: chunk.count, rows: &rows, products: &products)
                    swap(&rows, &products)
                    width = d.units
                case let .activation(function, _, _):
                    rows.withUnsafeMutableBufferPointer { r in
                        for row in 0..<chunk.count {
                            function.apply(inPlace: UnsafeMutableBufferPointer(rebasing: r[(row * width)..<((row + 1) * width)]))
                        }
                    }
                case let .affine(scale, shift, _, _):
                    for row in 0..<chunk.count {
                        for i in 0..<width { rows[row * width + i] = rows[row * width + i] * scale[i] + shift[i] }
                    }
                default:
                    preconditionFailure("the dense tail holds dense and element-wise steps only")
                }
            }
            for (row, sample) in chunk.enumerated() {
                for k in 0..<outputCount { logits[sample + k * stride] = rows[row * width + k] }
            }
        }
    }

    /// `products` = `rows` · Wᵀ + bias (and ReLU) for `count` rows of `d.inputs` values.
    private func denseRows(_ d: DenseStep, count: Int, rows: inout [Float], products: inout [Float]) {
        rows.withUnsafeBufferPointer { r in
            d.weights.withUnsafeBufferPointer { w in
                products.withUnsafeMutableBufferPointer { p in
                    gemm(transposeB: true, m: count, n: d.units, k: d.inputs, a: r.baseAddress!, lda: d.inputs,
                         b: w.baseAddress!, ldb: d.inputs, c: p.baseAddress!, ldc: d.units)
                    for row in 0..<count {
                        let out = p.baseAddress! + row * d.units
                        for u in 0..<d.units {
                            let v = out[u] + d.bias[u]
                            out[u] = d.relu && v < 0 ? 0 : v
                        }
                    }
                }
            }
        }
    }
}

extension PlanStep {
    var isDense: Bool {
        if case .dense = self { return true }
        return false
    }

    /// A dense layer, or an element-wise step over a vector.
    var fitsDenseTail: Bool {
        switch self {
        case .dense, .activation(_, _, .vector), .affine(_, _, _, .vector): return true
        default: return false
        }
    }
}
