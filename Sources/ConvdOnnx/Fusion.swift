// Fusion: rewrites before the graph is compiled, each only where the tensor in between has a
// single user and is not a graph output (OpenCV 5's rule): a BatchNormalization after a Conv
// becomes the Conv's weights and bias; a Relu or a constant Clip (ReLU6) after a Conv, a Gemm
// or a float Add (a residual block's sum) becomes the node's `convd.clip` attribute, applied
// as its output is stored.

enum Fusion {
    /// The attribute that carries a fused clamp: [low, high].
    static let clipAttribute = "convd.clip"

    /// `nodes` with the fusions applied; new weights are added to `constants`.
    static func apply(_ nodes: [OnnxNode], constants: inout [String: OnnxTensor], graphOutputs: Set<String>,
                      isFloat: (String) -> Bool) -> [OnnxNode] {
        var nodes = nodes
        // Constant nodes' values, for bounds given that way (the legacy exporter's ReLU6).
        var known = constants
        for node in nodes where node.opType == "Constant" && node.domain.isEmpty && node.outputs.count == 1 {
            if case .tensor(let t)? = node.attributes["value"] { known[node.outputs[0]] = t }
        }
        var uses: [String: Int] = [:]
        for node in nodes { for input in node.inputs where !input.isEmpty { uses[input, default: 0] += 1 } }
        for output in graphOutputs { uses[output, default: 0] += 1 }
        var producer: [String: Int] = [:]
        for (i, node) in nodes.enumerated() { for output in node.outputs { producer[output] = i } }
        var removed = Set<Int>()
        for i in nodes.indices {
            let node = nodes[i]
            guard node.domain.isEmpty, let x = node.inputs.first, uses[x] == 1, let p = producer[x], !removed.contains(p),
                  nodes[p].outputs.count == 1, nodes[p].attributes[clipAttribute] == nil else { continue }
            if node.opType == "BatchNormalization" && nodes[p].opType == "Conv",
               let folded = foldBatchNorm(node, into: nodes[p], constants: &constants) {
                nodes[p] = folded
                removed.insert(i)
                producer[node.outputs[0]] = p
            } else if ["Conv", "Gemm"].contains(nodes[p].opType) || (nodes[p].opType == "Add" && isFloat(x)),
                      let bounds = clamp(node, constants: known) {
                nodes[p].attributes[clipAttribute] = .floats(bounds)
                nodes[p].outputs = node.outputs
                removed.insert(i)
                producer[node.outputs[0]] = p
            }
        }
        return nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }
    }

    /// The bounds of a Relu or of a Clip whose bounds are known.
    static func clamp(_ node: OnnxNode, constants: [String: OnnxTensor]) -> [Float]? {
        guard node.outputs.count == 1 else { return nil }
        if node.opType == "Relu" { return [0, .infinity] }
        guard node.opType == "Clip" else { return nil }
        if node.opset < 11 {
            func bound(_ name: String, _ fallback: Float) -> Float? {
                switch node.attributes[name] {
                case nil: fallback
                case .float(let v)?: v
                default: nil
                }
            }
            guard let low = bound("min", -.infinity), let high = bound("max", .infinity) else { return nil }
            return [low, high]
        }
        func input(_ i: Int, _ fallback: Float) -> Float? {
            guard i < node.inputs.count, !node.inputs[i].isEmpty else { return fallback }
            guard let t = constants[node.inputs[i]], t.count == 1, t.type == .float else { return nil }
            return t.floats[0]
        }
        guard let low = input(1, -.infinity), let high = input(2, .infinity) else { return nil }
        return [low, high]
    }

    /// The Conv `conv` with the inference batch normalisation `norm` folded into new weights.
    static func foldBatchNorm(_ norm: OnnxNode, into conv: OnnxNode, constants: inout [String: OnnxTensor]) -> OnnxNode? {
        guard norm.outputs.count == 1, norm.inputs.count == 5, norm.opset >= 7,
              norm.attributes["training_mode"] == nil || norm.attributes["training_mode"] == .int(0),
              conv.inputs.count >= 2, let w = constants[conv.inputs[1]], w.type == .float, w.rank == 4 else { return nil }
        let m = w.shape[0]
        let params = norm.inputs[1...].compactMap { constants[$0] }
        guard params.count == 4, params.allSatisfy({ $0.type == .float && $0.shape == [m] }) else { return nil }
        var epsilon: Float = 1e-5
        if case .float(let e)? = norm.attributes["epsilon"] { epsilon = e }
        var bias = [Float](repeating: 0, count: m)
        if conv.inputs.count > 2, !conv.inputs[2].isEmpty {
            guard let b = constants[conv.inputs[2]], b.type == .float, b.shape == [m] else { return nil }
            bias = b.floats
        }
        let (scale, shift) = Operators.batchNormAffine(params.map(\.floats), epsilon: epsilon)
        let per = w.count / max(1, m)
        var weights = w.floats
        for o in 0..<m { for j in 0..<per { weights[o * per + j] *= scale[o] } }
        let name = norm.outputs[0]
        constants[name + "/convd.folded.weight"] = OnnxTensor(shape: w.shape, floats: weights)
        constants[name + "/convd.folded.bias"] = OnnxTensor(shape: [m], floats: (0..<m).map { bias[$0] * scale[$0] + shift[$0] })
        var fused = conv
        fused.inputs = [conv.inputs[0], name + "/convd.folded.weight", name + "/convd.folded.bias"]
        fused.outputs = norm.outputs
        return fused
    }
}
