// Operators that make values rather than move them: Shape and Size (from the static shape, so
// they fold at import), Cast and CastLike, Constant and ConstantOfShape.

extension Operators {
    static let shapes: [String: [(Int, Builder)]] = [
        "Shape": [(1, shapeOf)],
        "Size": [(1, sizeOf)],
        "Cast": [(6, cast)],
        "CastLike": [(15, castLike)],
        "Constant": [(1, constant)],
        "ConstantOfShape": [(9, constantOfShape)],
    ]

    static let shapeOf: Builder = { b throws(Unsupported) in
        let x = try b.input(0)
        let rank = x.shape.count
        func bound(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let start = bound(try b.int("start", 0)), end = bound(try b.int("end", rank))
        let dims = start < end ? x.shape[start..<end].map(Int64.init) : []
        let value = OnnxTensor(shape: [dims.count], ints: dims)
        return Built(kernel: Kernel { _, _ in [value] }, outputs: [ValueInfo(type: .int64, shape: [dims.count])],
                     reads: [])
    }

    static let sizeOf: Builder = { b throws(Unsupported) in
        let value = OnnxTensor(shape: [], ints: [Int64(try b.input(0).shape.elementCount)])
        return Built(kernel: Kernel { _, _ in [value] }, outputs: [ValueInfo(type: .int64, shape: [])], reads: [])
    }

    /// CastLike: Cast to the element type of the second input.
    static let castLike: Builder = { b throws(Unsupported) in
        let like = try b.input(1)
        let to = like.declaredType ?? (like.type == .float ? 1 : like.type == .bool ? 9 : 7)
        let built = try cast(NodeBuild(node: b.node, inputs: [b.inputs[0]], maxElements: b.maxElements), to: to)
        return Built(kernel: built.kernel, outputs: built.outputs, reads: [0])
    }

    static let cast: Builder = { b throws(Unsupported) in try cast(b, to: b.int("to", 0)) }

    static func cast(_ b: NodeBuild, to: Int) throws(Unsupported) -> Built {
        let x = try b.input(0)
        let type: ElementType
        // Floating types compute in float32: a cast to FLOAT16 or BFLOAT16 rounds to that
        // precision, one to DOUBLE keeps float32's.
        var rounding: StoredType?
        switch to {
        case 1, 11: type = .float
        case 10, 16: (type, rounding) = (.float, StoredType(rawValue: to))
        case 2, 3, 4, 5, 6, 7, 12, 13: (type, rounding) = (.int64, StoredType(rawValue: to))
        case 9: type = .bool
        default: throw .type("Cast to \(typeName(to)) is not supported")
        }
        let kernel = Kernel.unary { [rounding] t in
            switch type {
            case .float: return OnnxTensor(shape: t.shape, floats: t.asFloats.map { rounding?.round($0) ?? $0 })
            case .int64:
                // To the target's width, as C casts wrap (UINT8 keeps the low 8 bits...).
                let wide = t.type == .float ? t.floats.map(OnnxTensor.saturated) : t.ints
                return OnnxTensor(shape: t.shape, ints: rounding.map { r in wide.map(r.wrap) } ?? wide)
            case .bool:
                return OnnxTensor(shape: t.shape, ints: t.type == .float ? t.floats.map { $0 != 0 ? 1 : 0 }
                                  : t.ints.map { $0 != 0 ? 1 : 0 }, type: .bool)
            }
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: type, shape: x.shape)])
    }

    static let constant: Builder = { b throws(Unsupported) in
        let value: OnnxTensor
        switch (b.node.attributes["value"], b.node.attributes["value_float"], b.node.attributes["value_floats"],
                b.node.attributes["value_int"], b.node.attributes["value_ints"]) {
        case (.tensor(let t)?, _, _, _, _): value = t
        case (_, .float(let f)?, _, _, _): value = OnnxTensor(shape: [], floats: [f])
        case (_, _, .floats(let f)?, _, _): value = OnnxTensor(shape: [f.count], floats: f)
        case (_, _, _, .int(let i)?, _): value = OnnxTensor(shape: [], ints: [i])
        case (_, _, _, _, .ints(let i)?): value = OnnxTensor(shape: [i.count], ints: i)
        default: throw .attribute("only tensor, float and integer constants are supported")
        }
        return Built(kernel: Kernel { _, _ in [value] }, outputs: [ValueInfo(type: value.type, shape: value.shape)])
    }

    static let constantOfShape: Builder = { b throws(Unsupported) in
        guard let shape = try b.intList(0, "shape") else { throw .shape("the shape must be constant") }
        _ = try b.bounded(shape)
        var fill = OnnxTensor(shape: [1], floats: [0])
        if case .tensor(let t)? = b.node.attributes["value"], t.count == 1 { fill = t }
        // Made when the kernel runs (at import, after the compiler's size check).
        let kernel = Kernel { [fill] _, _ in
            [fill.type == .float
                ? OnnxTensor(shape: shape, floats: [Float](repeating: fill.floats[0], count: shape.elementCount))
                : OnnxTensor(shape: shape, ints: [Int64](repeating: fill.ints[0], count: shape.elementCount), type: fill.type)]
        }
        return Built(kernel: kernel, outputs: [ValueInfo(type: fill.type, shape: shape)], reads: [])
    }
}
