// Broadcast: NumPy's multidirectional broadcasting, as ONNX's Add, Mul, Where, Max... use it.
// Shapes align on the right; a dimension of 1 stretches.

enum Broadcast {
    /// The broadcast shape of `shapes`, or nil when two dimensions differ and neither is 1.
    static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var out = [Int](repeating: 1, count: rank)
        for s in shapes {
            for (i, d) in s.enumerated() {
                let o = rank - s.count + i
                if out[o] == 1 { out[o] = d } else if d != 1 && d != out[o] { return nil }
            }
        }
        return out
    }

    /// Element strides of a tensor of `shape` read as `out` (0 along stretched dimensions).
    static func strides(_ shape: [Int], to out: [Int]) -> [Int] {
        let own = shape.strides
        return out.indices.map { o in
            let i = o - (out.count - shape.count)
            return i < 0 || shape[i] == 1 ? 0 : own[i]
        }
    }

    /// `out[i] = f(a[ia], b[ib])` over the broadcast shape `out`.
    static func map<T, U>(_ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], out: [Int],
                          _ f: (T, T) -> U) -> [U] {
        let count = out.elementCount
        if aShape == bShape { return (0..<count).map { f(a[$0], b[$0]) } }
        if b.count == 1 { let v = b[0]; return a.map { f($0, v) } }
        if a.count == 1 { let v = a[0]; return b.map { f(v, $0) } }
        let sa = strides(aShape, to: out), sb = strides(bShape, to: out)
        var result: [U] = []
        result.reserveCapacity(count)
        walk(out, [sa, sb]) { offsets, inner, steps in
            var ia = offsets[0], ib = offsets[1]
            for _ in 0..<inner {
                result.append(f(a[ia], b[ib]))
                ia += steps[0]
                ib += steps[1]
            }
        }
        return result
    }

    /// Calls `body` once per run of the innermost dimension of `out`, with each operand's offset
    /// at the run's start, the run's length and each operand's step along it.
    static func walk(_ out: [Int], _ strides: [[Int]], _ body: ([Int], Int, [Int]) -> Void) {
        guard let inner = out.last else {
            body(strides.map { _ in 0 }, 1, strides.map { _ in 0 })
            return
        }
        guard inner > 0, out.elementCount > 0 else { return }
        let outer = out.dropLast().reduce(1, *)
        let steps = strides.map { $0.last! }
        var index = [Int](repeating: 0, count: out.count - 1)
        var offsets = [Int](repeating: 0, count: strides.count)
        for _ in 0..<outer {
            body(offsets, inner, steps)
            var d = out.count - 2
            while d >= 0 {
                index[d] += 1
                for k in strides.indices { offsets[k] += strides[k][d] }
                if index[d] < out[d] { break }
                for k in strides.indices { offsets[k] -= strides[k][d] * out[d] }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// `x` stretched to `out` (for Expand and variadic operators).
    static func expand(_ x: OnnxTensor, to out: [Int]) -> OnnxTensor {
        if x.shape == out { return x }
        let s = strides(x.shape, to: out)
        var indices: [Int] = []
        indices.reserveCapacity(out.elementCount)
        walk(out, [s]) { offsets, inner, steps in
            for j in 0..<inner { indices.append(offsets[0] + j * steps[0]) }
        }
        return x.type == .float ? OnnxTensor(shape: out, floats: indices.map { x.floats[$0] })
            : OnnxTensor(shape: out, ints: indices.map { x.ints[$0] }, type: x.type)
    }
}
