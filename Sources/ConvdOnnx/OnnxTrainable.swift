// OnnxTrainable: an imported ONNX graph as convd's own layers, so that it can be trained
// further (`convd train --from model.onnx`). The graph is checked and its constants folded as
// for inference, but not fused: each remaining node becomes one layer with the node's weights,
// BatchNormalization keeps its statistics, and tensor names become the layers' inputs.
//
// Mapped: Conv (groups; one square kernel, stride, dilation and padding for both axes),
// BatchNormalization (convd's momentum is 1 − ONNX's), Relu, LeakyRelu, Sigmoid, Tanh,
// HardSwish, Clip to [0, ∞) or [0, 6], MaxPool and AveragePool without padding, the global
// pools and a ReduceMean over height and width, Flatten (axis 1) and a Reshape to [N, features], Gemm (weights α·B, bias β·C) and
// MatMul with a constant (an Add of a constant vector right after it becomes its bias), Add of
// two tensors of one shape, Concat along the channels, Dropout, Identity, and a final Softmax
// (convd's classifiers apply their own). Everything else is listed in one error.
import ConvdNet

/// An ONNX graph as convd layers with their weights.
public struct OnnxTrainableGraph {
    /// The layers, in order, named after the ONNX nodes.
    public let nodes: [LayerNode]
    /// The per-sample input shape.
    public let input: SampleShape
    /// Per node: the values of its parameters and of its buffers, in the layer's order.
    let parameters: [[[Float]]]
    let buffers: [[[Float]]]

    /// The network with the graph's weights (the nodes passed NetworkPlan).
    public func network() throws -> Network {
        let network = try Network(input: input, nodes: nodes)
        for (i, index) in network.nodeLayers.enumerated() {
            let layer = network.layers[index]
            for (p, values) in zip(layer.parameters, parameters[i]) {
                guard p.value.count == values.count else {
                    throw OnnxError(path: "", reason: "\(p.name): \(values.count) values for \(p.shape)")
                }
                p.value = values
            }
            for (b, values) in zip(layer.buffers, buffers[i]) where b.value.count == values.count { b.value = values }
        }
        return network
    }
}

extension OnnxFile {
    /// The graph for an NCHW input of `shape` ([1, C, H, W]) as convd layers.
    public func trainableGraph(inputShape shape: [Int]) throws(OnnxError) -> OnnxTrainableGraph {
        let declared = declaredInputs
        guard declared.count == 1, shape.count == 4, shape[0] == 1 else {
            throw OnnxError(path: path, reason: "convd trains models with one NCHW image input")
        }
        let pass = try OnnxImporter.firstPass(document, shapes: [declared[0].name: shape], bound: [:], limits: limits)
        guard pass.report.isEmpty else { throw pass.report.error }
        var converter = TrainableConverter(values: pass.compiler.values, input: declared[0].name)
        let remaining = pass.compiler.remaining
        for node in remaining { converter.uses(node) }
        for output in document.outputs {
            converter.useCount[output.name, default: 0] += 1
            converter.graphOutputs.insert(output.name)
        }
        for node in remaining { converter.add(node, info: pass.compiler.info) }
        guard converter.problems.isEmpty else {
            throw OnnxError(path: path, reason: "cannot train this graph as convd layers: "
                            + "\(converter.problems.count) node(s) — " + converter.problems.joined(separator: "; "))
        }
        guard let output = document.outputs.first, converter.layerOf[output.name] != nil,
              let last = converter.nodes.last?.name, converter.layerOf[output.name] == last else {
            throw OnnxError(path: path, reason: "cannot train this graph as convd layers: the output is not the last layer")
        }
        let input = SampleShape(channels: shape[1], height: shape[2], width: shape[3])
        // Every layer must give the shape ONNX infers for its node: a geometry convd reads
        // differently (a padding rule, a rounding) is refused here, not trained.
        let plan: NetworkPlan
        do {
            plan = try NetworkPlan(input: input, nodes: converter.nodes)
        } catch {
            throw OnnxError(path: path, reason: "cannot train this graph as convd layers: \(error)")
        }
        for (i, planned) in plan.shapes.enumerated() {
            let want = converter.expected[i].shape
            let flat = want.count == 2 ? [1, want[1], 1, 1] : want
            guard flat == [1, planned.channels, planned.height, planned.width] else {
                throw OnnxError(path: path, reason: "cannot train this graph as convd layers: node "
                                + "\"\(converter.expected[i].node)\" gives \(want) in ONNX but \(planned) as a convd layer")
            }
        }
        return OnnxTrainableGraph(nodes: converter.nodes, input: input, parameters: converter.parameters,
                                  buffers: converter.buffers)
    }
}

/// Walks the unfused nodes, making layers.
private struct TrainableConverter {
    /// The operators `add` maps (some only in certain forms).
    static let mapped: Set = ["Conv", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSwish", "Clip",
                              "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "Flatten",
                              "Reshape", "Gemm", "MatMul", "Add", "Concat", "Dropout", "Identity", "Softmax"]

    let values: [String: OnnxTensor]
    let input: String
    var nodes: [LayerNode] = []
    var parameters: [[[Float]]] = []
    var buffers: [[[Float]]] = []
    var problems: [String] = []
    /// The convd layer name (or "input") that holds each ONNX tensor.
    var layerOf: [String: String]
    var useCount: [String: Int] = [:]
    /// The graph's outputs.
    var graphOutputs = Set<String>()
    /// Per layer: the ONNX output shape it must have, and its node for messages.
    var expected: [(shape: [Int], node: String)] = []
    /// The ONNX tensor the last layer wrote.
    private var lastOutput = ""
    private var names = Set<String>()

    init(values: [String: OnnxTensor], input: String) {
        self.values = values
        self.input = input
        layerOf = [input: LayerNode.inputName]
    }

    mutating func uses(_ node: OnnxNode) {
        for name in node.inputs where !name.isEmpty { useCount[name, default: 0] += 1 }
    }

    mutating func add(_ node: OnnxNode, info: (String) -> ValueInfo?) {
        func fail(_ why: String) { problems.append("\(node.opType) at node \"\(node.label)\": \(why)") }
        guard node.domain.isEmpty, let output = node.outputs.first else { return fail("not an ONNX operator") }
        let runtime = node.inputs.filter { !$0.isEmpty && values[$0] == nil }
        let sources = runtime.compactMap { layerOf[$0] }
        guard sources.count == runtime.count else {
            // After an earlier problem: what this node would become is unknown, but an
            // operator with no layer at all is still worth naming.
            if !Self.mapped.contains(node.opType) { fail("no convd layer") }
            return
        }
        func constant(_ i: Int) -> OnnxTensor? {
            i < node.inputs.count && !node.inputs[i].isEmpty ? values[node.inputs[i]] : nil
        }
        func int(_ key: String, _ fallback: Int) -> Int {
            if case .int(let v)? = node.attributes[key] { return Int(v) }
            return fallback
        }
        func float(_ key: String, _ fallback: Float) -> Float {
            if case .float(let v)? = node.attributes[key] { return v }
            return fallback
        }
        func ints(_ key: String) -> [Int]? {
            if case .ints(let v)? = node.attributes[key] { return v.map { Int($0) } }
            return nil
        }
        func alias() { layerOf[output] = sources.first }
        func emit(_ spec: LayerSpec, _ params: [[Float]] = [], _ stored: [[Float]] = []) {
            let name = uniqueName(node.label)
            let inputs = sources == [nodes.last?.name ?? LayerNode.inputName] ? [] : sources
            nodes.append(LayerNode(spec, name: name, inputs: inputs))
            parameters.append(params)
            buffers.append(stored)
            layerOf[output] = name
            expected.append((info(output)?.shape ?? [], node.label))
            lastOutput = output
        }
        guard runtime.count >= 1 else { return fail("no input from the image") }
        switch node.opType {
        case "Conv":
            guard let w = constant(1), w.rank == 4 else { return fail("the weights are not a constant 4-D tensor") }
            guard let (size, stride, dilation, padding) = window(node, kernel: Array(w.shape[2...]), fail: fail) else { return }
            let groups = int("group", 1), filters = w.shape[0]
            let bias = constant(2)
            let spec: LayerSpec = groups == 1
                ? .conv2d(filters: filters, size: size, stride: stride, padding: padding, dilation: dilation,
                          bias: bias != nil)
                : .groupedConv2d(filters: filters, size: size, stride: stride, padding: padding, dilation: dilation,
                                 bias: bias != nil, groups: groups)
            emit(spec, [w.asFloats] + (bias.map { [$0.asFloats] } ?? []))
        case "BatchNormalization":
            guard let scale = constant(1), let shift = constant(2), let mean = constant(3), let variance = constant(4) else {
                return fail("scale, bias, mean and variance must be constants")
            }
            emit(.batchnorm(momentum: 1 - float("momentum", 0.9), epsilon: float("epsilon", 1e-5)),
                 [scale.asFloats, shift.asFloats], [mean.asFloats, variance.asFloats])
        case "Relu": emit(.relu)
        case "LeakyRelu": emit(.leakyRelu(slope: float("alpha", 0.01)))
        case "Sigmoid": emit(.sigmoid)
        case "Tanh": emit(.tanh)
        case "HardSwish": emit(.hardSwish)
        case "Clip":
            switch Fusion.clamp(node, constants: values) {
            case [0, .infinity]?: emit(.relu)
            case [0, 6]?: emit(.relu6)
            default: fail("only Clip to [0, ∞) or [0, 6] has a convd layer")
            }
        case "MaxPool", "AveragePool":
            guard let kernel = ints("kernel_shape"), kernel.count == 2, kernel[0] == kernel[1] else {
                return fail("only square 2-D windows")
            }
            let strides = ints("strides") ?? [1, 1]
            var autoPad = "NOTSET"
            if case .string(let text)? = node.attributes["auto_pad"] { autoPad = text }
            guard ["NOTSET", "VALID", ""].contains(autoPad), strides.count == 2, strides[0] == strides[1],
                  (ints("pads") ?? [0]).allSatisfy({ $0 == 0 }),
                  (ints("dilations") ?? [1]).allSatisfy({ $0 == 1 }) else {
                return fail("only one stride, no padding and no dilation")
            }
            if int("ceil_mode", 0) != 0, let shape = info(runtime[0])?.shape, shape.count == 4,
               shape[2...].contains(where: { ($0 - kernel[0]) % strides[0] != 0 }) {
                return fail("ceil_mode rounds this size up; convd pools round down")
            }
            emit(node.opType == "MaxPool" ? .maxpool(size: kernel[0], stride: strides[0])
                 : .avgpool(size: kernel[0], stride: strides[0]))
        case "GlobalAveragePool": emit(.globalAvgpool)
        case "ReduceMean":
            // The mean over both spatial axes is global average pooling (keepdims or not: a
            // C×1×1 map and C features are one layout).
            var axes = ints("axes") ?? constant(1)?.asInts.map { Int($0) }
            if let shape = info(runtime[0])?.shape, shape.count == 4 {
                axes = axes?.map { $0 < 0 ? $0 + 4 : $0 }
                guard Set(axes ?? []) == [2, 3] else { return fail("only the mean over height and width") }
                emit(.globalAvgpool)
            } else {
                fail("only the mean over height and width of a map")
            }
        case "GlobalMaxPool": emit(.globalMaxpool)
        case "Flatten":
            guard int("axis", 1) == 1 else { return fail("only axis 1") }
            if info(runtime[0])?.shape.count == 2 { alias() } else { emit(.flatten) }
        case "Reshape":
            guard let shape = info(output)?.shape, shape.count == 2, let from = info(runtime[0])?.shape,
                  from.count >= 2, shape[1] == from.dropFirst().reduce(1, *) else {
                return fail("only a reshape to [N, features] has a convd layer")
            }
            if from.count == 2 { alias() } else { emit(.flatten) }
        case "Gemm":
            guard var b = constant(1), b.rank == 2, int("transA", 0) == 0 else {
                return fail("only X·Bᵀ or X·B with a constant B")
            }
            if int("transB", 0) == 0 { b = transpose(b) }
            let alpha = float("alpha", 1), beta = float("beta", 1), units = b.shape[0]
            var bias = [Float](repeating: 0, count: units)
            if let c = constant(2) {
                guard c.count == units else { return fail("the bias C must have one value per output") }
                bias = c.asFloats.map { $0 * beta }
            }
            emit(.dense(units: units), [b.asFloats.map { $0 * alpha }, bias])
        case "MatMul":
            guard let b = constant(1), b.rank == 2 else { return fail("only X·B with a constant 2-D B") }
            emit(.dense(units: b.shape[1]), [transpose(b).asFloats, [Float](repeating: 0, count: b.shape[1])])
        case "Add" where runtime.count == 1:
            // X·B + c: the constant becomes the bias of the dense layer that made X.
            let other = node.inputs.first { values[$0] != nil }.flatMap { values[$0] }
            guard let bias = other, let last = nodes.last, runtime[0] == lastOutput, case .dense(let units) = last.spec,
                  bias.count == units, useCount[runtime[0]] == 1 else {
                return fail("only a dense layer's constant bias can be added")
            }
            parameters[parameters.count - 1][1] = zip(parameters[parameters.count - 1][1], bias.asFloats).map { $0 + $1 }
            layerOf[output] = last.name
        case "Add":
            let shapes = runtime.map { info($0)?.shape }
            guard runtime.count == 2, shapes[0] != nil, shapes[0] == shapes[1] else {
                return fail("only two tensors of one shape")
            }
            emit(.add)
        case "Concat":
            guard let rank = info(output)?.shape.count, rank == 4, [1, -3].contains(int("axis", 0)),
                  runtime.count == node.inputs.count else {
                return fail("only maps joined along the channels")
            }
            emit(.concat)
        case "Dropout":
            var rate = float("ratio", 0.5)
            if node.opset >= 12, let given = constant(1) {
                guard given.count == 1 else { return fail("the ratio must be one number") }
                rate = given.float(at: 0)
            }
            guard rate >= 0 && rate < 1 else { return fail("the ratio must be in [0, 1)") }
            emit(.dropout(rate: rate))
        case "Identity": alias()
        case "Softmax" where graphOutputs.contains(output) && useCount[output, default: 0] == 1: alias()
        default:
            fail("no convd layer")
        }
    }

    /// Conv's window as convd's: one size, stride, dilation and padding for both axes.
    private func window(_ node: OnnxNode, kernel: [Int], fail: (String) -> Void)
        -> (size: Int, stride: Int, dilation: Int, padding: Int)? {
        func ints(_ key: String, _ fallback: [Int]) -> [Int] {
            if case .ints(let v)? = node.attributes[key] { return v.map { Int($0) } }
            return fallback
        }
        let strides = ints("strides", [1, 1]), dilations = ints("dilations", [1, 1]), pads = ints("pads", [0, 0, 0, 0])
        var autoPad = "NOTSET"
        if case .string(let text)? = node.attributes["auto_pad"] { autoPad = text }
        guard kernel.count == 2, kernel[0] == kernel[1], strides.count == 2, strides[0] == strides[1],
              dilations.count == 2, dilations[0] == dilations[1] else {
            fail("only square kernels with one stride and dilation")
            return nil
        }
        var padding = 0
        switch autoPad {
        case "NOTSET", "":
            guard pads.count == 4, Set(pads).count == 1 else {
                fail("only the same padding on every side (pads \(pads))")
                return nil
            }
            padding = pads[0]
        case "VALID": padding = 0
        default:
            // SAME with stride 1 and an odd window: (size − 1)·dilation / 2 on every side.
            let span = (kernel[0] - 1) * dilations[0]
            guard strides[0] == 1, span % 2 == 0 else {
                fail("auto_pad \(autoPad) pads unevenly here")
                return nil
            }
            padding = span / 2
        }
        return (kernel[0], strides[0], dilations[0], padding)
    }

    private func transpose(_ t: OnnxTensor) -> OnnxTensor {
        let rows = t.shape[0], columns = t.shape[1], v = t.asFloats
        var out = [Float](repeating: 0, count: v.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = v[r * columns + c] } }
        return OnnxTensor(shape: [columns, rows], floats: out)
    }

    /// A valid, unused layer name made from an ONNX node's name.
    private mutating func uniqueName(_ label: String) -> String {
        var base = String(label.unicodeScalars.map { s -> Character in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || "_-.".unicodeScalars.contains(s))
                ? Character(s) : "_"
        }.drop { $0 == "_" })
        if !LayerNode.isValidName(base) { base = "node_" + base }
        base = String(base.suffix(56))
        var name = base, n = 2
        while names.contains(name) {
            name = "\(base)_\(n)"
            n += 1
        }
        names.insert(name)
        return name
    }
}
