// NodeBuild: what an operator's builder sees of one node — its attributes, and for each input
// the static type and shape and, when import knows it, the constant value — and what a builder
// returns: a kernel and the type and shape of every output. Builders check everything a kernel
// relies on, so kernels never fail at run time.

/// What import knows of a value before running anything.
struct ValueInfo: Equatable {
    var type: ElementType
    var shape: [Int]
}

/// One input of a node under construction.
struct BuildInput {
    let info: ValueInfo
    /// The value, when it is an initializer, a Constant or folded from constants.
    let constant: OnnxTensor?
    /// The ONNX element type a graph input or initializer was declared with (FLOAT16 and
    /// DOUBLE values compute as float32); nil for computed values.
    var declaredType: Int? = nil

    var shape: [Int] { info.shape }
    var type: ElementType { info.type }
}

/// Why a builder refuses a node.
struct Unsupported: Error {
    let kind: ImportProblem.Kind
    let detail: String

    static func attribute(_ detail: String) -> Unsupported { Unsupported(kind: .attribute, detail: detail) }
    static func type(_ detail: String) -> Unsupported { Unsupported(kind: .type, detail: detail) }
    static func shape(_ detail: String) -> Unsupported { Unsupported(kind: .shape, detail: detail) }
}

/// A compiled node: given its inputs (nil for omitted optional ones), its outputs.
struct Kernel: Sendable {
    let run: @Sendable (_ inputs: [OnnxTensor?], _ threads: Int) -> [OnnxTensor]
    /// Whether the kernel takes inputs in the blocked layout (OnnxTensor.blocked); the graph
    /// gives every other kernel NCHW.
    var takesBlocked = false

    init(takesBlocked: Bool = false, _ run: @escaping @Sendable (_ inputs: [OnnxTensor?], _ threads: Int) -> [OnnxTensor]) {
        self.run = run
        self.takesBlocked = takesBlocked
    }

    /// A kernel of one input and one output.
    static func unary(_ f: @escaping @Sendable (OnnxTensor) -> OnnxTensor) -> Kernel {
        Kernel { inputs, _ in [f(inputs[0]!)] }
    }
}

/// What a builder makes of a node.
struct Built {
    let kernel: Kernel
    let outputs: [ValueInfo]
    /// Whether the kernel may run at import on constant inputs (all but random ones).
    var foldable = true
    /// The inputs whose values the kernel reads (nil: all). Shape and Size read none, CastLike
    /// only its first: they fold when those are constant, whatever the others are.
    var reads: [Int]?
    /// Bytes the kernel allocates for itself while it runs (a padded copy, im2col rows), for
    /// the job's memory estimate.
    var scratchBytes = 0
}

/// A node with its inputs resolved.
struct NodeBuild {
    let node: OnnxNode
    /// One per declared input; nil where the name is empty (an omitted optional input).
    let inputs: [BuildInput?]
    /// The most elements any one value may have (OnnxLimits.maxElements).
    var maxElements = OnnxLimits().maxElements

    /// Refuses an output shape over the element limit, before anything is allocated for it:
    /// every dimension non-negative and the product of the non-zero ones within the limit (so
    /// no partial product of the shape can overflow either).
    func bounded(_ shape: [Int]) throws(Unsupported) -> [Int] {
        try Self.bounded(shape, maxElements: maxElements)
    }

    /// `bounded` for any limit (the compiler checks every output with it).
    static func bounded(_ shape: [Int], maxElements: Int) throws(Unsupported) -> [Int] {
        var product = 1
        for d in shape {
            guard d >= 0 else { throw .shape("dimension \(d) in \(shape) is negative") }
            let (p, overflow) = product.multipliedReportingOverflow(by: max(d, 1))
            guard !overflow, p <= maxElements else {
                throw .shape("its output \(shape.map(String.init).joined(separator: "×")) has more than \(maxElements) elements")
            }
            product = p
        }
        return shape
    }

    /// Constant input `i` holding integers (shapes, axes, pads, repeats, sizes), as Ints.
    func intList(_ i: Int, _ what: String) throws(Unsupported) -> [Int]? {
        guard let t = try constant(i, what) else { return nil }
        guard t.type != .float else { throw .type("\(what) (input \(i + 1)) must hold integers") }
        return t.ints.map { Int(clamping: $0) }
    }

    /// Constant input `i` holding exactly one value (a Clip bound, Pad's value...).
    func scalar(_ i: Int, _ what: String) throws(Unsupported) -> OnnxTensor? {
        guard let t = try constant(i, what) else { return nil }
        guard t.count == 1 else { throw .shape("\(what) (input \(i + 1)) must hold one value, not \(t.count)") }
        return t
    }

    var opset: Int { node.opset }

    /// Input `i`, which must be present.
    func input(_ i: Int) throws(Unsupported) -> BuildInput {
        guard i < inputs.count, let input = inputs[i] else {
            throw .attribute("input \(i + 1) is missing")
        }
        return input
    }

    /// Input `i` if the node has it.
    func optionalInput(_ i: Int) -> BuildInput? { i < inputs.count ? inputs[i] : nil }

    /// The constant value of input `i` if present; it must be known at import.
    func constant(_ i: Int, _ what: String) throws(Unsupported) -> OnnxTensor? {
        guard let input = optionalInput(i) else { return nil }
        guard let value = input.constant else {
            throw .shape("\(what) (input \(i + 1)) must be a constant or computable from the input's shape")
        }
        return value
    }

    /// Input `i` as a float tensor.
    func floatInput(_ i: Int) throws(Unsupported) -> BuildInput {
        let x = try input(i)
        guard x.type == .float else { throw .type("input \(i + 1) is \(x.type), not float") }
        return x
    }

    func int(_ name: String, _ fallback: Int) throws(Unsupported) -> Int {
        switch node.attributes[name] {
        case nil: return fallback
        case .int(let v)?: return Int(clamping: v)
        default: throw .attribute("attribute \(name) is not an integer")
        }
    }

    func float(_ name: String, _ fallback: Float) throws(Unsupported) -> Float {
        switch node.attributes[name] {
        case nil: return fallback
        case .float(let v)?: return v
        case .int(let v)?: return Float(v)
        default: throw .attribute("attribute \(name) is not a number")
        }
    }

    func ints(_ name: String) throws(Unsupported) -> [Int]? {
        switch node.attributes[name] {
        case nil: return nil
        case .ints(let v)?: return v.map { Int(clamping: $0) }
        case .int(let v)?: return [Int(clamping: v)]
        default: throw .attribute("attribute \(name) is not a list of integers")
        }
    }

    func string(_ name: String, _ fallback: String) throws(Unsupported) -> String {
        switch node.attributes[name] {
        case nil: return fallback
        case .string(let v)?: return v
        default: throw .attribute("attribute \(name) is not a string")
        }
    }

    /// Refuses attributes convd does not implement when set to anything but their default.
    func refuse(_ name: String, unless accepted: Attribute) throws(Unsupported) {
        if let value = node.attributes[name], value != accepted {
            throw .attribute("attribute \(name) = \(value) is not supported")
        }
    }

    /// `axis` in `-rank..<rank` made non-negative (a scalar has no axis).
    func axis(_ axis: Int, rank: Int, name: String = "axis") throws(Unsupported) -> Int {
        guard rank >= 1, axis >= -rank && axis < rank else {
            throw .attribute("\(name) \(axis) is outside a rank-\(rank) tensor")
        }
        return axis < 0 ? axis + rank : axis
    }
}

extension Attribute: CustomStringConvertible {
    var description: String {
        switch self {
        case .float(let v): "\(v)"
        case .int(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        case .tensor(let t): "a \(t.shape.shapeText) tensor"
        case .floats(let v): "\(v)"
        case .ints(let v): "\(v)"
        case .strings(let v): "\(v)"
        case .unsupported(let what): what
        }
    }
}
