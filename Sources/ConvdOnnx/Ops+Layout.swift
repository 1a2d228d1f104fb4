// Layout operators: values that only move — Identity, Dropout, Flatten, Reshape, Squeeze,
// Unsqueeze, Transpose, Concat, Split, Gather, Slice, Pad, Expand and Tile. Their shape inputs
// must be constant at import (folded from the input's static shape when a graph computes them).

extension Operators {
    static let layout: [String: [(Int, Builder)]] = [
        "Identity": [(1, identity)],
        "Dropout": [(1, dropout)],
        "Flatten": [(1, flatten)],
        "Reshape": [(5, reshape)],
        "Squeeze": [(1, squeeze(axesAsInput: false)), (13, squeeze(axesAsInput: true))],
        "Unsqueeze": [(1, unsqueeze(axesAsInput: false)), (13, unsqueeze(axesAsInput: true))],
        "Transpose": [(1, transpose)],
        "Concat": [(4, concat)],
        "Split": [(2, split)],
        "Gather": [(1, gather)],
        "Slice": [(1, slice(asInputs: false)), (10, slice(asInputs: true))],
        "Pad": [(2, pad(asInputs: false)), (11, pad(asInputs: true))],
        "Expand": [(8, expand)],
        "Tile": [(6, tile)],
    ]

    static let identity: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        return Built(kernel: .unary { $0 }, outputs: [x.info])
    }

    /// Inference: the input passes through; the mask, if asked for, is all true.
    static let dropout: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        if let training = try b.scalar(2, "training_mode"), training.int(at: 0) != 0 {
            throw .attribute("training_mode = true is not supported")
        }
        if b.opset < 7, try b.int("is_test", 1) == 0 { throw .attribute("is_test = 0 is not supported") }
        let mask = b.node.outputs.count > 1 && !b.node.outputs[1].isEmpty
        let kernel = Kernel { inputs, _ in
            let t = inputs[0]!
            return mask ? [t, OnnxTensor(shape: t.shape, ints: [Int64](repeating: 1, count: t.count), type: .bool)] : [t]
        }
        return Built(kernel: kernel, outputs: mask ? [x.info, ValueInfo(type: .bool, shape: x.shape)] : [x.info])
    }

    /// A kernel that gives its input a new shape.
    static func reshaping(_ x: BuildInput, to shape: [Int]) -> Built {
        Built(kernel: .unary { $0.reshaped(shape) }, outputs: [ValueInfo(type: x.type, shape: shape)])
    }

    static let flatten: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        let given = try b.int("axis", 1), rank = x.shape.count
        guard given >= -rank && given <= rank else { throw .attribute("axis \(given) is outside a rank-\(rank) tensor") }
        let axis = given < 0 ? given + rank : given
        return reshaping(x, to: [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])
    }

    static let reshape: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        guard var shape = try b.intList(1, "shape") else { throw .attribute("the shape input is missing") }
        let allowZero = try b.int("allowzero", 0) != 0
        for (i, d) in shape.enumerated() where d == 0 && !allowZero {
            guard i < x.shape.count else { throw .shape("shape \(shape) copies dimension \(i) of \(x.shape.shapeText)") }
            shape[i] = x.shape[i]
        }
        let unknown = shape.indices.filter { shape[$0] == -1 }
        guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 && $0 <= b.maxElements }) else {
            throw .shape("shape \(shape) is not valid")
        }
        if let u = unknown.first {
            let known = try b.bounded(shape.enumerated().filter { $0.offset != u }.map(\.element)).reduce(1, *)
            guard known > 0, x.shape.elementCount % known == 0 else {
                throw .shape("cannot reshape \(x.shape.shapeText) to \(shape)")
            }
            shape[u] = x.shape.elementCount / known
        }
        guard shape.elementCount == x.shape.elementCount else {
            throw .shape("cannot reshape \(x.shape.shapeText) (\(x.shape.elementCount) values) to \(shape.shapeText)")
        }
        return reshaping(x, to: shape)
    }

    /// The axes of Squeeze, Unsqueeze, Reduce*: an attribute before `opset`, an input after.
    static func axesList(_ b: NodeBuild, asInput: Bool, index: Int = 1) throws(Unsupported) -> [Int]? {
        asInput ? try b.intList(index, "axes") : try b.ints("axes")
    }

    static func squeeze(axesAsInput: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0)
            let rank = x.shape.count
            let axes = try axesList(b, asInput: axesAsInput).map { list throws(Unsupported) in
                try list.map { a throws(Unsupported) in try b.axis(a, rank: rank) }
            } ?? x.shape.indices.filter { x.shape[$0] == 1 }
            guard axes.allSatisfy({ x.shape[$0] == 1 }) else { throw .shape("squeezing an axis that is not 1") }
            return reshaping(x, to: x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
        }
    }

    static func unsqueeze(axesAsInput: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0)
            guard let list = try axesList(b, asInput: axesAsInput) else { throw .attribute("axes are missing") }
            let rank = x.shape.count + list.count
            let axes = try list.map { a throws(Unsupported) in try b.axis(a, rank: rank) }
            guard Set(axes).count == axes.count else { throw .attribute("axes repeat") }
            var shape: [Int] = []
            var source = x.shape.makeIterator()
            for d in 0..<rank { shape.append(axes.contains(d) ? 1 : source.next()!) }
            return reshaping(x, to: shape)
        }
    }

    /// Output element i is input element `indices[i]`.
    static func gathering(_ t: OnnxTensor, _ indices: [Int], shape: [Int]) -> OnnxTensor {
        t.type == .float ? OnnxTensor(shape: shape, floats: indices.map { t.floats[$0] })
            : OnnxTensor(shape: shape, ints: indices.map { t.ints[$0] }, type: t.type)
    }

    /// The input offsets of every output element when each output axis d reads input axis
    /// `axes[d]` at `start[d] + i·step[d]` (a permutation or a strided window).
    static func offsets(_ input: [Int], out: [Int], axes: [Int], start: [Int], step: [Int]) -> [Int] {
        let s = input.strides
        let strides = out.indices.map { s[axes[$0]] * step[$0] }
        let base = out.indices.reduce(0) { $0 + s[axes[$1]] * start[$1] }
        var result: [Int] = []
        result.reserveCapacity(out.elementCount)
        Broadcast.walk(out, [strides]) { o, inner, steps in
            for j in 0..<inner { result.append(base + o[0] + j * steps[0]) }
        }
        return result
    }

    static let transpose: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        let perm = try b.ints("perm") ?? Array(x.shape.indices.reversed())
        guard perm.sorted() == Array(x.shape.indices) else { throw .attribute("perm \(perm) is not a permutation") }
        let out = perm.map { x.shape[$0] }
        let index = offsets(x.shape, out: out, axes: perm, start: perm.map { _ in 0 }, step: perm.map { _ in 1 })
        return Built(kernel: .unary { [index, out] in gathering($0, index, shape: out) }, outputs: [ValueInfo(type: x.type, shape: out)])
    }

    static let concat: Builder = { b throws(Unsupported) in
        let xs = try (0..<b.inputs.count).map { i throws(Unsupported) in try b.input(i) }
        guard let first = xs.first else { throw .attribute("no inputs") }
        let axis = try b.axis(b.int("axis", 0), rank: first.shape.count)
        for x in xs where x.type != first.type || x.shape.count != first.shape.count
            || x.shape.indices.contains(where: { $0 != axis && x.shape[$0] != first.shape[$0] }) {
            throw .shape("inputs \(xs.map { $0.shape.shapeText }.joined(separator: ", ")) differ off axis \(axis)")
        }
        var out = first.shape
        out[axis] = xs.map { $0.shape[axis] }.reduce(0, +)
        _ = try b.bounded(out)
        let outer = first.shape[..<axis].reduce(1, *)
        let rows = xs.map { $0.shape[axis...].reduce(1, *) }
        let type = first.type
        // Blocked maps whose channels fill whole blocks concatenate along channels block by
        // block (SqueezeNet's Fire modules); other inputs are NCHW.
        let blockwise = axis == 1 && out.count == 4 && xs.allSatisfy { $0.shape[1] % 16 == 0 }
        let kernel = Kernel(takesBlocked: blockwise) { [out] inputs, _ in
            if blockwise && inputs.allSatisfy({ $0!.blocked }) {
                let plane = out[2] * out[3] * 16
                var floats: [Float] = []
                floats.reserveCapacity(out[0] * out[1] * out[2] * out[3])
                for n in 0..<out[0] {
                    for t in inputs.map({ $0! }) {
                        let size = t.shape[1] / 16 * plane
                        floats += t.floats[(n * size)..<((n + 1) * size)]
                    }
                }
                return [OnnxTensor(blockedShape: out, floats: floats)]
            }
            let inputs = inputs.map { $0?.planar() }
            var floats: [Float] = [], ints: [Int64] = []
            for o in 0..<outer {
                for (i, t) in inputs.enumerated() {
                    let range = (o * rows[i])..<((o + 1) * rows[i])
                    if type == .float { floats += t!.floats[range] } else { ints += t!.ints[range] }
                }
            }
            return [type == .float ? OnnxTensor(shape: out, floats: floats) : OnnxTensor(shape: out, ints: ints, type: type)]
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: type, shape: out)])
    }

    static let split: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        let axis = try b.axis(b.int("axis", 0), rank: x.shape.count)
        let count = b.node.outputs.count
        var sizes = b.opset >= 13 ? try b.intList(1, "split") : try b.ints("split")
        if sizes == nil {
            let parts = b.opset >= 18 ? try b.int("num_outputs", count) : count
            guard parts >= 1, parts == count else { throw .attribute("\(parts) parts for \(count) outputs") }
            let each = (x.shape[axis] + parts - 1) / parts
            sizes = (0..<parts).map { min(each, max(0, x.shape[axis] - $0 * each)) }
        }
        guard let sizes, sizes.count == count, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == x.shape[axis] else {
            throw .shape("the split sizes do not add up to \(x.shape[axis]) over \(count) outputs")
        }
        var outputs: [ValueInfo] = [], indices: [[Int]] = []
        var start = 0
        for size in sizes {
            var shape = x.shape
            shape[axis] = size
            var begin = [Int](repeating: 0, count: x.shape.count)
            begin[axis] = start
            indices.append(offsets(x.shape, out: shape, axes: Array(x.shape.indices), start: begin,
                                   step: x.shape.map { _ in 1 }))
            outputs.append(ValueInfo(type: x.type, shape: shape))
            start += size
        }
        let shapes = outputs.map(\.shape)
        return Built(kernel: Kernel { [indices] inputs, _ in indices.indices.map { gathering(inputs[0]!, indices[$0], shape: shapes[$0]) } },
                     outputs: outputs)
    }

    static let gather: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        guard let indices = try b.constant(1, "indices") else { throw .attribute("indices are missing") }
        guard indices.type != .float else { throw .type("indices are floats") }
        let axis = try b.axis(b.int("axis", 0), rank: x.shape.count)
        let n = x.shape[axis]
        var picks: [Int] = []
        for i in indices.ints {
            guard i >= -Int64(n) && i < Int64(n) else { throw .shape("index \(i) is outside an axis of \(n)") }
            picks.append(Int(i < 0 ? i + Int64(n) : i))
        }
        let out = try b.bounded(Array(x.shape[..<axis]) + indices.shape + Array(x.shape[(axis + 1)...]))
        let outer = x.shape[..<axis].reduce(1, *), inner = x.shape[(axis + 1)...].reduce(1, *)
        var index: [Int] = []
        for o in 0..<outer {
            for p in picks { index += (((o * n) + p) * inner)..<(((o * n) + p + 1) * inner) }
        }
        return Built(kernel: .unary { [index, out] in gathering($0, index, shape: out) }, outputs: [ValueInfo(type: x.type, shape: out)])
    }

    static func slice(asInputs: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0)
            let rank = x.shape.count
            let starts: [Int], ends: [Int], axesGiven: [Int]?, stepsGiven: [Int]?
            if asInputs {
                func list(_ i: Int, _ name: String) throws(Unsupported) -> [Int]? { try b.intList(i, name) }
                guard let s = try list(1, "starts"), let e = try list(2, "ends") else { throw .attribute("starts or ends missing") }
                (starts, ends, axesGiven, stepsGiven) = (s, e, try list(3, "axes"), try list(4, "steps"))
            } else {
                guard let s = try b.ints("starts"), let e = try b.ints("ends") else { throw .attribute("starts or ends missing") }
                (starts, ends, axesGiven, stepsGiven) = (s, e, try b.ints("axes"), nil)
            }
            let axes = try (axesGiven ?? Array(0..<starts.count)).map { a throws(Unsupported) in try b.axis(a, rank: rank) }
            let steps = stepsGiven ?? axes.map { _ in 1 }
            guard starts.count == axes.count, ends.count == axes.count, steps.count == axes.count,
                  steps.allSatisfy({ $0 != 0 }) else {
                throw .attribute("starts, ends, axes and steps must have the same length, steps non-zero")
            }
            var begin = [Int](repeating: 0, count: rank), step = [Int](repeating: 1, count: rank), out = x.shape
            for (i, a) in axes.enumerated() {
                // Values past the axis act as its ends (INT64_MAX is "to the end"); clamped
                // first, so no arithmetic below can overflow.
                let n = x.shape[a], s = min(max(steps[i], -(n + 1)), n + 1)
                func clamp(_ v: Int, _ low: Int, _ high: Int) -> Int {
                    let v = min(max(v, -(n + 1)), n + 1)
                    return min(max(v < 0 ? v + n : v, low), high)
                }
                // Spec: starts in [0, n] (step > 0) or [0, n−1] (step < 0); ends in [0, n] or [−1, n−1].
                let lo = s > 0 ? clamp(starts[i], 0, n) : clamp(starts[i], 0, n - 1)
                let hi = s > 0 ? clamp(ends[i], 0, n) : clamp(ends[i], -1, n - 1)
                begin[a] = lo
                step[a] = s
                out[a] = s > 0 ? max(0, (hi - lo + s - 1) / s) : max(0, (lo - hi - s - 1) / -s)
            }
            let index = out.elementCount == 0 ? [] : offsets(x.shape, out: out, axes: Array(0..<rank), start: begin, step: step)
            return Built(kernel: .unary { [index, out] in gathering($0, index, shape: out) }, outputs: [ValueInfo(type: x.type, shape: out)])
        }
    }

    static func pad(asInputs: Bool) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0)
            let rank = x.shape.count
            let mode = try b.string("mode", "constant")
            guard ["constant", "reflect", "edge"].contains(mode) else { throw .attribute("mode \"\(mode)\" is not supported") }
            var pads: [Int], value: Float
            if asInputs {
                guard let p = try b.intList(1, "pads") else { throw .attribute("pads are missing") }
                pads = p
                value = try b.scalar(2, "constant_value")?.float(at: 0) ?? 0
                if let axes = try b.intList(3, "axes") {
                    let list = try axes.map { a throws(Unsupported) in try b.axis(a, rank: rank) }
                    guard pads.count == 2 * list.count else { throw .attribute("pads do not match axes") }
                    var full = [Int](repeating: 0, count: 2 * rank)
                    for (i, a) in list.enumerated() {
                        full[a] = pads[i]
                        full[rank + a] = pads[list.count + i]
                    }
                    pads = full
                }
            } else {
                pads = try b.ints("pads") ?? []
                value = try b.float("value", 0)
            }
            guard pads.count == 2 * rank, pads.allSatisfy({ $0.magnitude <= UInt(b.maxElements) }) else {
                throw .attribute("pads need \(2 * rank) values of at most \(b.maxElements)")
            }
            let out = (0..<rank).map { x.shape[$0] + pads[$0] + pads[rank + $0] }
            guard out.allSatisfy({ $0 >= 0 }) else { throw .shape("pads remove more than the input has") }
            _ = try b.bounded(out)
            if mode != "constant" {
                for d in 0..<rank where (pads[d] > 0 || pads[rank + d] > 0)
                    && (x.shape[d] == 0 || (mode == "reflect" && max(pads[d], pads[rank + d]) >= x.shape[d])) {
                    throw .shape("\(mode) padding of \(max(pads[d], pads[rank + d])) on an axis of \(x.shape[d])")
                }
            }
            // Source index of every output element, or -1 for the constant.
            var index: [Int] = []
            index.reserveCapacity(out.elementCount)
            let strides = x.shape.strides
            var position = [Int](repeating: 0, count: rank)
            for _ in 0..<out.elementCount {
                var offset = 0
                for d in 0..<rank {
                    var i = position[d] - pads[d]
                    let n = x.shape[d]
                    if i < 0 || i >= n {
                        if mode == "constant" { offset = -1; break }
                        i = mode == "edge" ? min(max(i, 0), n - 1) : (i < 0 ? -i : 2 * (n - 1) - i)
                    }
                    offset += i * strides[d]
                }
                index.append(offset)
                var d = rank - 1
                while d >= 0 {
                    position[d] += 1
                    if position[d] < out[d] { break }
                    position[d] = 0
                    d -= 1
                }
            }
            let kernel = Kernel.unary { [index, value] t in
                t.type == .float ? OnnxTensor(shape: out, floats: index.map { $0 < 0 ? value : t.floats[$0] })
                    : OnnxTensor(shape: out, ints: index.map { $0 < 0 ? Int64(value) : t.ints[$0] }, type: t.type)
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: x.type, shape: out)])
        }
    }

    static let expand: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        guard let target = try b.intList(1, "shape") else { throw .attribute("shape is missing") }
        guard let out = Broadcast.shape([x.shape, target]) else {
            throw .shape("\(x.shape.shapeText) does not expand to \(target)")
        }
        _ = try b.bounded(out)
        return Built(kernel: .unary { Broadcast.expand($0, to: out) }, outputs: [ValueInfo(type: x.type, shape: out)])
    }

    static let tile: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        guard let repeats = try b.intList(1, "repeats"), repeats.count == x.shape.count,
              repeats.allSatisfy({ $0 >= 0 && $0 <= b.maxElements }) else {
            throw .attribute("repeats must be one count per axis, from 0 to \(b.maxElements)")
        }
        let out = try b.bounded(zip(x.shape, repeats).map { $0 * $1 })
        let strides = x.shape.strides
        var index: [Int] = []
        index.reserveCapacity(out.elementCount)
        var position = [Int](repeating: 0, count: out.count)
        for _ in 0..<out.elementCount {
            index.append(out.indices.reduce(0) { $0 + (position[$1] % x.shape[$1]) * strides[$1] })
            var d = out.count - 1
            while d >= 0 {
                position[d] += 1
                if position[d] < out[d] { break }
                position[d] = 0
                d -= 1
            }
        }
        return Built(kernel: .unary { [index, out] in gathering($0, index, shape: out) }, outputs: [ValueInfo(type: x.type, shape: out)])
    }
}
