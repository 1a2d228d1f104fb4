// Reductions over axes (ReduceMean, ReduceSum, ReduceMax, ReduceMin; axes an attribute, or an
// input from opset 13 for ReduceSum and 18 for the rest), and Softmax / LogSoftmax in both
// semantics: before opset 13 over the input flattened to 2-D at `axis`, from 13 along one axis.
import Foundation

extension Operators {
    static let reduction: [String: [(Int, Builder)]] = [
        "ReduceMean": [(1, reduce(.mean, axesAsInput: false)), (18, reduce(.mean, axesAsInput: true))],
        "ReduceSum": [(1, reduce(.sum, axesAsInput: false)), (13, reduce(.sum, axesAsInput: true))],
        "ReduceMax": [(1, reduce(.max, axesAsInput: false)), (18, reduce(.max, axesAsInput: true))],
        "ReduceMin": [(1, reduce(.min, axesAsInput: false)), (18, reduce(.min, axesAsInput: true))],
        "Softmax": [(1, softmax(log: false, perAxis: false)), (13, softmax(log: false, perAxis: true))],
        "LogSoftmax": [(1, softmax(log: true, perAxis: false)), (13, softmax(log: true, perAxis: true))],
    ]

    enum Reduction: Sendable { case mean, sum, max, min }

    static func reduce(_ kind: Reduction, axesAsInput: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0)
            guard x.type == .float || kind != .mean else { throw .type("ReduceMean of integers") }
            let rank = x.shape.count
            let keep = try b.int("keepdims", 1) != 0
            let given = try axesList(b, asInput: axesAsInput)
            var axes = try (given ?? []).map { a throws(Unsupported) in try b.axis(a, rank: rank) }
            if axes.isEmpty {
                if try b.int("noop_with_empty_axes", 0) != 0 { return try identity(b) }
                axes = Array(0..<rank)
            }
            let reduced = Set(axes)
            let kept = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
            let out = keep ? kept : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
            // Each input element's output position: its index with the reduced axes at 0.
            let strides = Broadcast.strides(kept, to: x.shape)
            var target: [Int] = []
            target.reserveCapacity(x.shape.elementCount)
            Broadcast.walk(x.shape, [strides]) { o, inner, steps in
                for j in 0..<inner { target.append(o[0] + j * steps[0]) }
            }
            let count = out.elementCount, n = Float(max(1, x.shape.elementCount / max(1, count)))
            let kernel = Kernel.unary { [target] t in
                if t.type != .float {
                    var acc = [Int64](repeating: kind == .max ? .min : kind == .min ? .max : 0, count: count)
                    for (i, v) in t.ints.enumerated() {
                        let o = target[i]
                        acc[o] = kind == .max ? max(acc[o], v) : kind == .min ? min(acc[o], v) : acc[o] &+ v
                    }
                    return OnnxTensor(shape: out, ints: acc, type: .int64)
                }
                var acc = [Float](repeating: kind == .max ? -.infinity : kind == .min ? .infinity : 0, count: count)
                for (i, v) in t.floats.enumerated() {
                    let o = target[i]
                    switch kind {
                    case .mean, .sum: acc[o] += v
                    case .max: acc[o] = max(acc[o], v)
                    case .min: acc[o] = min(acc[o], v)
                    }
                }
                if kind == .mean { for o in acc.indices { acc[o] /= n } }
                return OnnxTensor(shape: out, floats: acc)
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: x.type == .bool ? .int64 : x.type, shape: out)])
        }
    }

    static func softmax(log: Bool, perAxis: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.floatInput(0)
            let rank = x.shape.count
            let axis = try b.axis(b.int("axis", perAxis ? -1 : 1), rank: rank)
            // Rows of `length` values `stride` apart: along one axis, or the flattened tail.
            let length = perAxis ? x.shape[axis] : x.shape[axis...].reduce(1, *)
            let stride = perAxis ? x.shape[(axis + 1)...].reduce(1, *) : 1
            let kernel = Kernel.unary { t in
                var v = t.floats
                let rows = t.count / max(1, length)
                for r in 0..<rows {
                    let base = (r / stride) * stride * length + r % stride
                    var high = -Float.infinity
                    for i in 0..<length { high = max(high, v[base + i * stride]) }
                    var sum: Float = 0
                    for i in 0..<length {
                        let e = Foundation.exp(v[base + i * stride] - high)
                        sum += e
                        if !log { v[base + i * stride] = e }
                    }
                    let logSum = Foundation.log(sum)
                    for i in 0..<length {
                        let p = base + i * stride
                        v[p] = log ? v[p] - high - logSum : v[p] / sum
                    }
                }
                return OnnxTensor(shape: t.shape, floats: v)
            }
            return Built(kernel: kernel, outputs: [x.info])
        }
    }
}
