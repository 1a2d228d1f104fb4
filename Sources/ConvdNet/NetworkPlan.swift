// NetworkPlan: a network worked out from its specs before anything is allocated: every
// hyper-parameter checked (positive, within NetworkLimits), every layer's output shape
// inferred, and every tensor's size and the parameter total computed with overflow-checked
// arithmetic. Network.init builds only what a plan accepts; ModelFile.decode also uses the
// plan to refuse a file too short for its architecture before building it.
import ConvdCore

/// What a network of `specs` on `input` would hold, computed without allocating it.
public struct NetworkPlan: Sendable, Equatable {
    /// Each node's output shape (implicit flattens are not listed).
    public let shapes: [SampleShape]
    /// Each node's inputs as node indices, in order; -1 is the network input.
    public let inputs: [[Int]]
    /// Trainable values.
    public let parameterCount: Int
    /// Values a model file stores: the parameters and the buffers (batchnorm's running statistics).
    public let storedCount: Int

    /// Checks a chain of `specs` on `input`.
    public init(input: SampleShape, specs: [LayerSpec]) throws(ArchitectureError) {
        try self.init(input: input, nodes: specs.map { LayerNode($0) })
    }

    /// Checks `nodes` on `input`; the error names the layer (1-based) and the limit. A
    /// `partial` plan (the layers so far, as an architecture is read) may end in a map and
    /// have layers nothing reads yet.
    public init(input: SampleShape, nodes: [LayerNode], partial: Bool = false) throws(ArchitectureError) {
        guard input.channels > 0 && input.height > 0 && input.width > 0 else {
            throw ArchitectureError(layer: nil, message: "input shape \(input) is empty")
        }
        for (key, v) in [("channels", input.channels), ("height", input.height), ("width", input.width)]
        where v > NetworkLimits.maxInputSide {
            throw ArchitectureError(layer: nil, message: "input \(key) \(v) exceeds the limit of \(NetworkLimits.maxInputSide)")
        }
        _ = try Self.size([input.channels, input.height, input.width], of: "the input \(input)", layer: nil)
        guard !nodes.isEmpty else { throw ArchitectureError(layer: nil, message: "no layers") }
        let inputs = try Self.resolve(nodes, partial: partial)
        var shapes: [SampleShape] = []
        var parameters = 0, stored = 0
        for (i, node) in nodes.enumerated() {
            let layer = i + 1, spec = node.spec
            let name = spec.kind + (spec.summary.isEmpty ? "" : " \(spec.summary)")
            let sources = inputs[i].map { $0 < 0 ? input : shapes[$0] }
            try Self.checkHyperParameters(spec, layer: layer, name: name)
            let step = spec.merges ? try Self.merge(spec, inputs: sources, layer: layer, name: name)
                : try Self.plan(spec, input: sources[0], layer: layer, name: name)
            guard step.output.channels > 0 && step.output.height > 0 && step.output.width > 0 else {
                throw ArchitectureError(layer: layer, message: "\(name): input \(sources[0]) shrinks to \(step.output)")
            }
            _ = try Self.size([step.output.channels, step.output.height, step.output.width],
                              of: "\(name): the output \(step.output)", layer: layer)
            guard let total = CheckedSize.sum(parameters, step.parameters), total <= NetworkLimits.maxParameters,
                  let kept = CheckedSize.sum(stored, step.parameters + step.buffers) else {
                throw ArchitectureError(layer: layer, message: "\(name): the network would have more than "
                                        + "\(NetworkLimits.maxParameters) parameters, the limit")
            }
            parameters = total
            stored = kept
            shapes.append(step.output)
        }
        let shape = shapes[shapes.count - 1]
        guard partial || (shape.height == 1 && shape.width == 1) else {
            throw ArchitectureError(layer: nodes.count, message: "the last layer must give a vector of class scores "
                                    + "(end with dense or global_avgpool), not \(shape)")
        }
        self.shapes = shapes
        self.inputs = inputs
        parameterCount = parameters
        storedCount = stored
    }

    /// Each node's inputs as indices: names resolved to layers written above, the layer above
    /// by default; every layer but the last must be read by a later one.
    private static func resolve(_ nodes: [LayerNode], partial: Bool) throws(ArchitectureError) -> [[Int]] {
        var named: [String: Int] = [:]
        var used = [Bool](repeating: false, count: nodes.count)
        var inputs: [[Int]] = []
        for (i, node) in nodes.enumerated() {
            let layer = i + 1, kind = node.spec.kind
            var sources: [Int] = []
            if node.inputs.isEmpty {
                sources = [i - 1]
            } else {
                for source in node.inputs {
                    if source == LayerNode.inputName {
                        sources.append(-1)
                    } else if let j = named[source] {
                        sources.append(j)
                    } else {
                        let later = nodes[(i + 1)...].contains { $0.name == source }
                        throw ArchitectureError(layer: layer, message: "\(kind): input \"\(source)\" "
                                                + (later ? "is written below this layer; a layer reads only layers above it"
                                                   : "names no layer (inputs are layer names or \"input\")"))
                    }
                }
            }
            if node.spec.merges {
                guard sources.count >= 2 else {
                    throw ArchitectureError(layer: layer, message: "\(kind) needs at least two inputs, e.g. "
                                            + "inputs = [\"a\", \"b\"]")
                }
            } else if sources.count != 1 {
                throw ArchitectureError(layer: layer, message: "\(kind) takes one input, not \(sources.count)")
            }
            for j in sources where j >= 0 { used[j] = true }
            if let name = node.name {
                guard named[name] == nil else {
                    throw ArchitectureError(layer: layer, message: "\(kind): the name \"\(name)\" is already layer "
                                            + "\(named[name]! + 1)'s")
                }
                named[name] = i
            }
            inputs.append(sources)
        }
        if !partial, let unused = used.dropLast().firstIndex(of: false) {
            throw ArchitectureError(layer: unused + 1, message: "\(nodes[unused].spec.kind) \(nodes[unused].label(unused)): "
                                    + "no later layer reads its output (give the next layer an inputs list that names it)")
        }
        return inputs
    }

    /// add and concat: the shapes of their inputs must agree.
    private static func merge(_ spec: LayerSpec, inputs: [SampleShape], layer: Int, name: String)
        throws(ArchitectureError) -> Step {
        let first = inputs[0]
        if case .add = spec {
            if let other = inputs.first(where: { $0 != first }) {
                throw ArchitectureError(layer: layer, message: "add: inputs must have one shape, got \(first) and \(other)")
            }
            return Step(output: first)
        }
        if let other = inputs.first(where: { $0.height != first.height || $0.width != first.width }) {
            throw ArchitectureError(layer: layer, message: "concat: inputs must have one height and width, got "
                                    + "\(first) and \(other)")
        }
        let channels = inputs.reduce(0) { $0 + $1.channels }
        _ = try size([channels, first.height, first.width], of: "concat: the output", layer: layer)
        return Step(output: SampleShape(channels: channels, height: first.height, width: first.width))
    }

    /// One layer: its output shape and the values it keeps.
    private struct Step {
        var output: SampleShape
        var parameters = 0
        var buffers = 0
    }

    private static func plan(_ spec: LayerSpec, input: SampleShape, layer: Int, name: String)
        throws(ArchitectureError) -> Step {
        let c = input.channels
        switch spec {
        case let .conv2d(filters, size, stride, padding, dilation, bias):
            let rows = AxisWindow(inputSize: input.height, kernelSize: size, stride: stride, dilation: dilation,
                                  padding: .explicit(padding))
            let columns = AxisWindow(inputSize: input.width, kernelSize: size, stride: stride, dilation: dilation,
                                     padding: .explicit(padding))
            let output = SampleShape(channels: filters, height: rows.outputSize, width: columns.outputSize)
            let weights = try self.size([filters, c, size, size], of: "\(name): the weights", layer: layer)
            _ = try self.size([c, size, size, output.height, output.width], of: "\(name): the unfolded input",
                              layer: layer)
            return Step(output: output, parameters: weights + (bias ? filters : 0))
        case let .groupedConv2d(filters, size, stride, padding, dilation, bias, groups):
            guard c % groups == 0 else {
                throw ArchitectureError(layer: layer, message: "\(name): \(c) input channels do not divide into "
                                        + "\(groups) groups")
            }
            let group = try plan(.conv2d(filters: filters / groups, size: size, stride: stride, padding: padding,
                                         dilation: dilation, bias: bias),
                                 input: SampleShape(channels: c / groups, height: input.height, width: input.width),
                                 layer: layer, name: name)
            // Each group keeps its own unfolded input in training: all of them within the cap.
            _ = try self.size([c, size, size, group.output.height, group.output.width], of: "\(name): the unfolded input",
                              layer: layer)
            return Step(output: SampleShape(channels: filters, height: group.output.height, width: group.output.width),
                        parameters: group.parameters * groups)
        case let .maxpool(size, stride), let .avgpool(size, stride):
            let rows = AxisWindow(inputSize: input.height, kernelSize: size, stride: stride, padding: .valid)
            let columns = AxisWindow(inputSize: input.width, kernelSize: size, stride: stride, padding: .valid)
            return Step(output: SampleShape(channels: c, height: rows.outputSize, width: columns.outputSize))
        case .globalAvgpool, .globalMaxpool:
            return Step(output: SampleShape(channels: c, height: 1, width: 1))
        case .relu, .relu6, .hardSwish, .leakyRelu, .sigmoid, .tanh, .dropout, .add, .concat:
            return Step(output: input)
        case .batchnorm:
            return Step(output: input, parameters: 2 * c, buffers: 2 * c)
        case .flatten:
            // The input passed the element limit, so its product fits.
            return Step(output: SampleShape(channels: c * input.height * input.width, height: 1, width: 1))
        case .dense(let units):
            // A spatial input gets an implicit flatten first.
            let features = c * input.height * input.width
            let weights = try self.size([units, features], of: "\(name): the weights", layer: layer)
            return Step(output: SampleShape(channels: units, height: 1, width: 1), parameters: weights + units)
        }
    }

    /// Hyper-parameters: positive where they must be, and within NetworkLimits, before any
    /// size is computed from them.
    private static func checkHyperParameters(_ spec: LayerSpec, layer: Int, name: String) throws(ArchitectureError) {
        func fail(_ message: String) -> ArchitectureError { ArchitectureError(layer: layer, message: "\(name): \(message)") }
        func positive(_ values: [(String, Int)]) throws(ArchitectureError) {
            for (key, v) in values where v < 1 { throw fail("\(key) must be at least 1, got \(v)") }
        }
        func capped(_ values: [(String, Int)], _ limit: Int) throws(ArchitectureError) {
            for (key, v) in values where v > limit { throw fail("\(key) \(v) exceeds the limit of \(limit)") }
        }
        switch spec {
        case let .conv2d(filters, size, stride, padding, dilation, _):
            try positive([("filters", filters), ("size", size), ("stride", stride), ("dilation", dilation)])
            if padding < 0 { throw fail("padding must be 0 or more") }
            if filters > NetworkLimits.maxFilters {
                throw fail("\(filters) filters exceed the limit of \(NetworkLimits.maxFilters)")
            }
            try capped([("size", size)], NetworkLimits.maxKernelSize)
            try capped([("stride", stride), ("padding", padding), ("dilation", dilation)], NetworkLimits.maxStride)
        case let .groupedConv2d(filters, size, stride, padding, dilation, bias, groups):
            try positive([("groups", groups)])
            try checkHyperParameters(.conv2d(filters: filters, size: size, stride: stride, padding: padding,
                                             dilation: dilation, bias: bias), layer: layer, name: name)
            if filters % groups != 0 { throw fail("\(filters) filters do not divide into \(groups) groups") }
        case let .maxpool(size, stride), let .avgpool(size, stride):
            try positive([("size", size), ("stride", stride)])
            try capped([("size", size)], NetworkLimits.maxKernelSize)
            try capped([("stride", stride)], NetworkLimits.maxStride)
        case .dense(let units):
            try positive([("units", units)])
            if units > NetworkLimits.maxUnits { throw fail("\(units) units exceed the limit of \(NetworkLimits.maxUnits)") }
        case .dropout(let rate) where !(rate >= 0 && rate < 1):
            throw fail("rate must be in [0, 1)")
        default:
            break
        }
    }

    /// The product of `factors`, refused when it overflows or passes `maxTensorElements`.
    private static func size(_ factors: [Int], of what: String, layer: Int?) throws(ArchitectureError) -> Int {
        guard let count = CheckedSize.product(factors), count <= NetworkLimits.maxTensorElements else {
            let shown = CheckedSize.product(factors).map(String.init) ?? factors.map(String.init).joined(separator: "×")
            throw ArchitectureError(layer: layer, message: "\(what) would have \(shown) values, over the limit of "
                                    + "\(NetworkLimits.maxTensorElements)")
        }
        return count
    }
}
