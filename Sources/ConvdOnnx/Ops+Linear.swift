// Linear algebra: Gemm (transA/transB, alpha, beta, a broadcast C), MatMul with NumPy's
// batching and 1-D promotion, and BatchNormalization in inference form.
import ConvdCore

extension Operators {
    static let linear: [String: [(Int, Builder)]] = [
        "Gemm": [(7, gemmNode)],
        "MatMul": [(1, matmul)],
        "BatchNormalization": [(7, batchNorm)],
    ]

    static let gemmNode: Builder = { b throws(Unsupported) in
        let a = try b.floatInput(0), w = try b.floatInput(1)
        guard a.shape.count == 2, w.shape.count == 2 else {
            throw .shape("Gemm takes 2-D inputs, not \(a.shape.shapeText) and \(w.shape.shapeText)")
        }
        let ta = try b.int("transA", 0) != 0, tb = try b.int("transB", 0) != 0
        let alpha = try b.float("alpha", 1), beta = try b.float("beta", 1)
        let (m, k) = ta ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = tb ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
        guard k == k2 else { throw .shape("A is \(m)×\(k) but B is \(k2)×\(n)") }
        if let c = b.optionalInput(2) {
            guard c.type == .float, Broadcast.shape([c.shape, [m, n]]) == [m, n] else {
                throw .shape("C \(c.shape.shapeText) does not broadcast to \(m)×\(n)")
            }
        }
        let fused = try fusedActivation(b)
        let kernel = Kernel { inputs, threads in
            let x = inputs[0]!, y = inputs[1]!
            var out = inputs.count > 2 && inputs[2] != nil && beta != 0
                ? Broadcast.expand(inputs[2]!, to: [m, n]).floats.map { $0 * beta }
                : [Float](repeating: 0, count: m * n)
            x.floats.withUnsafeBufferPointer { xp in
                y.floats.withUnsafeBufferPointer { yp in
                    out.withUnsafeMutableBufferPointer { op in
                        parallelGEMM(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: alpha,
                                     a: xp.baseAddress!, lda: a.shape[1], b: yp.baseAddress!, ldb: w.shape[1],
                                     beta: 1, c: op.baseAddress!, ldc: n, threads: threads)
                    }
                }
            }
            fused.apply(&out)
            return [OnnxTensor(shape: [m, n], floats: out)]
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: [m, n])])
    }

    static let matmul: Builder = { b throws(Unsupported) in
        let a = try b.floatInput(0), w = try b.floatInput(1)
        guard !a.shape.isEmpty, !w.shape.isEmpty else { throw .shape("MatMul of a scalar") }
        let left = a.shape.count == 1 ? [1] + a.shape : a.shape
        let right = w.shape.count == 1 ? w.shape + [1] : w.shape
        let (m, k) = (left[left.count - 2], left[left.count - 1]), (k2, n) = (right[right.count - 2], right[right.count - 1])
        guard k == k2 else { throw .shape("\(a.shape.shapeText) × \(w.shape.shapeText): inner sizes differ") }
        guard let batch = Broadcast.shape([Array(left.dropLast(2)), Array(right.dropLast(2))]) else {
            throw .shape("batch dimensions of \(a.shape.shapeText) and \(w.shape.shapeText) do not broadcast")
        }
        var out = batch + [m, n]
        if a.shape.count == 1 { out.remove(at: out.count - 2) }
        if w.shape.count == 1 { out.removeLast() }
        let sa = Broadcast.strides(Array(left.dropLast(2)), to: batch), sb = Broadcast.strides(Array(right.dropLast(2)), to: batch)
        let outShape = out
        let kernel = Kernel { inputs, threads in
            let x = inputs[0]!, y = inputs[1]!
            var result = [Float](repeating: 0, count: batch.elementCount * m * n)
            var offsets: [(Int, Int)] = []
            Broadcast.walk(batch, [sa, sb]) { o, inner, steps in
                for j in 0..<inner { offsets.append((o[0] + j * steps[0], o[1] + j * steps[1])) }
            }
            x.floats.withUnsafeBufferPointer { xp in
                y.floats.withUnsafeBufferPointer { yp in
                    result.withUnsafeMutableBufferPointer { rp in
                        for (i, (ia, ib)) in offsets.enumerated() {
                            parallelGEMM(m: m, n: n, k: k, a: xp.baseAddress! + ia * m * k, lda: k,
                                         b: yp.baseAddress! + ib * k * n, ldb: n, c: rp.baseAddress! + i * m * n, ldc: n,
                                         threads: threads)
                        }
                    }
                }
            }
            return [OnnxTensor(shape: outShape, floats: result)]
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: outShape)])
    }

    static let batchNorm: Builder = { b throws(Unsupported) in
        let x = try b.floatInput(0)
        guard b.node.outputs.filter({ !$0.isEmpty }).count == 1 else {
            throw .attribute("the training outputs (running mean and variance) are not supported")
        }
        try b.refuse("training_mode", unless: .int(0))
        guard x.shape.count >= 2 else { throw .shape("input \(x.shape.shapeText) has no channel axis") }
        let c = x.shape[1]
        for i in 1...4 {
            let p = try b.floatInput(i)
            guard p.shape == [c] else { throw .shape("parameter \(i + 1) must have \(c) values") }
        }
        let epsilon = try b.float("epsilon", 1e-5)
        let plane = x.shape[2...].reduce(1, *), batch = x.shape[0]
        let kernel = Kernel { inputs, _ in
            let (scale, shift) = batchNormAffine(inputs.dropFirst().map { $0!.floats }, epsilon: epsilon)
            var t = inputs[0]!
            for n in 0..<batch {
                for ch in 0..<c {
                    let base = (n * c + ch) * plane
                    for i in base..<(base + plane) { t.floats[i] = t.floats[i] * scale[ch] + shift[ch] }
                }
            }
            return [t]
        }
        return Built(kernel: kernel, outputs: [x.info])
    }

    /// γ/√(σ²+ε) and β − μ·γ/√(σ²+ε) from [γ, β, μ, σ²].
    static func batchNormAffine(_ p: [[Float]], epsilon: Float) -> (scale: [Float], shift: [Float]) {
        let scale = p[0].indices.map { p[0][$0] / (p[3][$0] + epsilon).squareRoot() }
        return (scale, p[0].indices.map { p[1][$0] - p[2][$0] * scale[$0] })
    }
}
