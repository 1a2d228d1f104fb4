// Element-wise operators: activations (one input), arithmetic with broadcasting (two inputs),
// the variadic Sum/Max/Min/Mean, Clip in its attribute and input forms, and PRelu.
import Foundation

extension Operators {
    /// A float activation `f` applied to every element.
    static func activation(_ f: @escaping @Sendable (Float) -> Float) -> Builder {
        { b throws(Unsupported) in
            let x = try b.floatInput(0)
            return Built(kernel: .unary { t in OnnxTensor(shape: t.shape, floats: t.floats.map(f)) },
                         outputs: [x.info])
        }
    }

    /// A unary operator on floats or integers.
    static func signed(_ f: @escaping @Sendable (Float) -> Float, _ g: @escaping @Sendable (Int64) -> Int64) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0)
            guard x.type == .int64 else { return try activation(f)(b) }
            return Built(kernel: .unary { t in OnnxTensor(shape: t.shape, ints: t.ints.map(g)) }, outputs: [x.info])
        }
    }

    /// Activations whose parameters are attributes.
    static func parameterised(_ make: @escaping @Sendable (NodeBuild) throws(Unsupported) -> @Sendable (Float) -> Float)
        -> Builder {
        { b throws(Unsupported) in try activation(make(b))(b) }
    }

    static let elementwise: [String: [(Int, Builder)]] = [
        "Relu": [(6, relu)],
        "Sigmoid": [(6, activation { 1 / (1 + exp(-$0)) })],
        "Tanh": [(6, activation { tanh($0) })],
        "Exp": [(6, activation { exp($0) })],
        "Log": [(6, activation { log($0) })],
        "Sqrt": [(6, activation { $0.squareRoot() })],
        "Abs": [(6, signed(abs, { $0 == .min ? .min : abs($0) }))],
        "Neg": [(6, signed({ -$0 }, { 0 &- $0 }))],
        "Reciprocal": [(6, activation { 1 / $0 })],
        "Floor": [(6, activation { $0.rounded(.down) })],
        "Ceil": [(6, activation { $0.rounded(.up) })],
        "Erf": [(9, activation { erf($0) })],
        "Softplus": [(1, activation { $0 > 20 ? $0 : log1p(exp($0)) })],
        "Softsign": [(1, activation { $0 / (1 + abs($0)) })],
        "HardSwish": [(14, activation { $0 * max(0, min(1, $0 / 6 + 0.5)) })],
        "LeakyRelu": [(6, parameterised { b throws(Unsupported) in
            let alpha = try b.float("alpha", 0.01)
            return { $0 >= 0 ? $0 : alpha * $0 }
        })],
        "Elu": [(6, parameterised { b throws(Unsupported) in
            let alpha = try b.float("alpha", 1)
            return { $0 >= 0 ? $0 : alpha * (exp($0) - 1) }
        })],
        "Selu": [(6, parameterised { b throws(Unsupported) in
            let alpha = try b.float("alpha", 1.67326319217681884765625)
            let gamma = try b.float("gamma", 1.05070102214813232421875)
            return { $0 > 0 ? gamma * $0 : gamma * (alpha * exp($0) - alpha) }
        })],
        "HardSigmoid": [(6, parameterised { b throws(Unsupported) in
            let alpha = try b.float("alpha", 0.2), beta = try b.float("beta", 0.5)
            return { max(0, min(1, alpha * $0 + beta)) }
        })],
        "ThresholdedRelu": [(10, parameterised { b throws(Unsupported) in
            let alpha = try b.float("alpha", 1)
            return { $0 > alpha ? $0 : 0 }
        })],
        "Clip": [(6, clipAttributes), (11, clipInputs)],
        "Add": [(7, arithmetic(+, { $0 &+ $1 }, fast: .add))],
        "Sub": [(7, arithmetic(-, { $0 &- $1 }, fast: .sub))],
        "Mul": [(7, arithmetic(*, { $0 &* $1 }, fast: .mul))],
        "Div": [(7, arithmetic(/, { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue }, fast: .div))],
        "Pow": [(7, power)],
        "PRelu": [(7, prelu)],
        "Sum": [(8, variadic(+, { $0 &+ $1 }, mean: false))],
        "Max": [(8, variadic({ $0.isNaN || $1.isNaN ? .nan : max($0, $1) }, { max($0, $1) }, mean: false))],
        "Min": [(8, variadic({ $0.isNaN || $1.isNaN ? .nan : min($0, $1) }, { min($0, $1) }, mean: false))],
        "Mean": [(8, variadic(+, { $0 &+ $1 }, mean: true))],
    ]

    /// Clip with `min`/`max` attributes (opsets 6–10).
    static let clipAttributes: Builder = { b throws(Unsupported) in
        let low = try b.float("min", -.greatestFiniteMagnitude), high = try b.float("max", .greatestFiniteMagnitude)
        return try activation { min(max($0, low), high) }(b)
    }

    /// Clip with optional `min`/`max` inputs (opset 11 on), which must be constants.
    static let clipInputs: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        let low = try b.scalar(1, "min"), high = try b.scalar(2, "max")
        if x.type != .float {
            let lo = low?.int(at: 0) ?? .min, hi = high?.int(at: 0) ?? .max
            return Built(kernel: .unary { t in OnnxTensor(shape: t.shape, ints: t.ints.map { min(max($0, lo), hi) },
                                                          type: t.type) }, outputs: [x.info])
        }
        let lo = low?.float(at: 0) ?? -.greatestFiniteMagnitude, hi = high?.float(at: 0) ?? .greatestFiniteMagnitude
        return try activation { min(max($0, lo), hi) }(b)
    }

    /// Relu as a plain loop (the residual blocks run it on every map), in either layout.
    static let relu: Builder = { b throws(Unsupported) in
        let x = try b.floatInput(0)
        let kernel = Kernel(takesBlocked: true) { inputs, _ in
            let t = inputs[0]!
            var out = t
            out.floats.withUnsafeMutableBufferPointer { p in
                for i in p.indices where !(p[i] >= 0) && !p[i].isNaN { p[i] = 0 }
            }
            return [out]
        }
        return Built(kernel: kernel, outputs: [x.info])
    }

    /// Float arithmetic with its own loops for inputs of one shape (the residual Add), where a
    /// closure call per element would cost more than the arithmetic.
    enum FastArithmetic: Sendable {
        case add, sub, mul, div

        func apply(_ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>) {
            switch self {
            case .add: for i in out.indices { out[i] = a[i] + b[i] }
            case .sub: for i in out.indices { out[i] = a[i] - b[i] }
            case .mul: for i in out.indices { out[i] = a[i] * b[i] }
            case .div: for i in out.indices { out[i] = a[i] / b[i] }
            }
        }
    }

    /// A broadcasting arithmetic operator on floats or integers.
    static func arithmetic(_ f: @escaping @Sendable (Float, Float) -> Float,
                           _ g: @escaping @Sendable (Int64, Int64) -> Int64, fast: FastArithmetic? = nil) -> Builder {
        { b throws(Unsupported) in
            let x = try b.input(0), y = try b.input(1)
            guard (x.type == .float) == (y.type == .float) else {
                throw .type("inputs of types \(x.type) and \(y.type)")
            }
            guard let out = Broadcast.shape([x.shape, y.shape]) else {
                throw .shape("shapes \(x.shape.shapeText) and \(y.shape.shapeText) do not broadcast")
            }
            let type = x.type == .bool ? ElementType.int64 : x.type
            // A Relu or Clip fused into a float Add (Fusion), applied to its result.
            let fused = try fusedActivation(b)
            guard fused == .none || type == .float else { throw .type("a fused activation on \(type) values") }
            // Same-shape float arithmetic works on either layout (both blocked alike: the
            // residual Add of a chain of blocked convolutions); anything else is NCHW.
            let kernel = Kernel(takesBlocked: fast != nil) { inputs, _ in
                var a = inputs[0]!, c = inputs[1]!
                if a.blocked != c.blocked || (a.blocked && a.shape != c.shape) {
                    a = a.planar()
                    c = c.planar()
                }
                if type == .float, let fast, a.shape == c.shape {
                    let count = a.floats.count
                    var result = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
                    a.floats.withUnsafeBufferPointer { ap in
                        c.floats.withUnsafeBufferPointer { cp in
                            result.withUnsafeMutableBufferPointer { fast.apply(ap, cp, $0) }
                        }
                    }
                    fused.apply(&result)
                    return [a.blocked ? OnnxTensor(blockedShape: out, floats: result) : OnnxTensor(shape: out, floats: result)]
                }
                if type == .float {
                    var result = Broadcast.map(a.floats, a.shape, c.floats, c.shape, out: out, f)
                    fused.apply(&result)
                    return [OnnxTensor(shape: out, floats: result)]
                }
                return [OnnxTensor(shape: out, ints: Broadcast.map(a.ints, a.shape, c.ints, c.shape, out: out, g))]
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: type, shape: out)])
        }
    }

    static let power: Builder = { b throws(Unsupported) in
        let x = try b.floatInput(0), y = try b.input(1)
        guard let out = Broadcast.shape([x.shape, y.shape]) else {
            throw .shape("shapes \(x.shape.shapeText) and \(y.shape.shapeText) do not broadcast")
        }
        let kernel = Kernel { inputs, _ in
            let a = inputs[0]!, e = inputs[1]!
            return [OnnxTensor(shape: out, floats: Broadcast.map(a.floats, a.shape, e.asFloats, e.shape, out: out) {
                $1 == 2 ? $0 * $0 : pow($0, $1)
            })]
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: .float, shape: out)])
    }

    /// PRelu: the slope broadcasts to the input (unidirectionally).
    static let prelu: Builder = { b throws(Unsupported) in
        let x = try b.floatInput(0), slope = try b.floatInput(1)
        guard Broadcast.shape([x.shape, slope.shape]) == x.shape else {
            throw .shape("slope \(slope.shape.shapeText) does not broadcast to \(x.shape.shapeText)")
        }
        let kernel = Kernel { inputs, _ in
            let a = inputs[0]!, s = inputs[1]!
            return [OnnxTensor(shape: a.shape, floats: Broadcast.map(a.floats, a.shape, s.floats, s.shape, out: a.shape) {
                $0 >= 0 ? $0 : $0 * $1
            })]
        }
        return Built(kernel: kernel, outputs: [x.info])
    }

    /// Sum, Max, Min, Mean over any number of broadcasting inputs.
    static func variadic(_ f: @escaping @Sendable (Float, Float) -> Float,
                         _ g: @escaping @Sendable (Int64, Int64) -> Int64, mean: Bool) -> Builder {
        { b throws(Unsupported) in
            let xs = try (0..<b.inputs.count).map { i throws(Unsupported) in try b.input(i) }
            guard let first = xs.first, xs.allSatisfy({ $0.type == first.type }) else {
                throw .type("inputs of different types")
            }
            guard !(mean && first.type != .float) else { throw .type("Mean of integers") }
            guard let out = Broadcast.shape(xs.map(\.shape)) else { throw .shape("input shapes do not broadcast") }
            let type = first.type
            let kernel = Kernel { inputs, _ in
                var acc = Broadcast.expand(inputs[0]!, to: out)
                for t in inputs.dropFirst().map({ $0! }) {
                    if type == .float {
                        acc.floats = Broadcast.map(acc.floats, out, t.floats, t.shape, out: out, f)
                    } else {
                        acc.ints = Broadcast.map(acc.ints, out, t.ints, t.shape, out: out, g)
                    }
                }
                if mean {
                    let scale = 1 / Float(inputs.count)
                    acc.floats = acc.floats.map { $0 * scale }
                }
                return [acc]
            }
            return Built(kernel: kernel, outputs: [ValueInfo(type: type, shape: out)])
        }
    }
}
