// Network: layers built from a list of LayerSpecs with shapes inferred from the input, run
// forward to logits and backward from ∂loss/∂logits (darknet's forward_network and
// backward_network: a loop over layers). A dense layer after a spatial one gets an implicit
// flatten, shown as its own layer.
import ConvdCore

/// Why an architecture cannot be built.
public struct ArchitectureError: Error, CustomStringConvertible, Equatable {
    /// 1-based layer number in the architecture, or nil.
    public let layer: Int?
    /// What is wrong.
    public let message: String

    /// An error about layer `layer`.
    public init(layer: Int?, message: String) {
        self.layer = layer
        self.message = message
    }

    /// `layer N: message`.
    public var description: String { layer.map { "layer \($0): \(message)" } ?? message }
}

/// A feed-forward network: a chain of layers, or a graph of them (residual connections,
/// concatenations) given by each node's inputs.
public final class Network {
    /// Per-sample input shape.
    public let inputShape: SampleShape
    /// The layers, in order (implicit flattens included).
    public let layers: [Layer]
    /// The nodes the network was built from (without implicit flattens).
    public let nodes: [LayerNode]
    /// Each layer's inputs as indices into `layers`; -1 is the network input.
    public let layerInputs: [[Int]]
    /// Each node's index in `layers` (after the implicit flattens before it).
    public let nodeLayers: [Int]
    /// Whether every layer reads only the one before it.
    public let isChain: Bool
    /// Leading layers that training leaves alone (transfer learning, Network+Freezing.swift):
    /// they run in inference mode, get no gradient, and the optimizer does not see them.
    public internal(set) var frozenLayers = 0
    /// Copies that `infer` runs on other threads (Network+Inference.swift); empty until then.
    var inferenceReplicas: [Network] = []
    /// The weights version each copy was last handed.
    var replicaVersions: [Int] = []
    /// The compiled inference plan, the weights version it was made for (nil plan: the layer
    /// order has none), and its per-thread workspaces (Network+Inference.swift).
    var inferencePlan: (plan: InferencePlan?, version: Int)?
    var planWorkspaces: [PlanWorkspace] = []

    /// The specs of the nodes.
    public var specs: [LayerSpec] { nodes.map(\.spec) }

    /// Builds a chain of `specs`, drawing initial weights from `seed`.
    public convenience init(input: SampleShape, specs: [LayerSpec], seed: UInt64 = 1) throws(ArchitectureError) {
        try self.init(input: input, nodes: specs.map { LayerNode($0) }, seed: seed)
    }

    /// Builds the network, drawing initial weights from `seed`, once its plan (graph, checks,
    /// shapes and sizes within NetworkLimits) has passed.
    public init(input: SampleShape, nodes: [LayerNode], seed: UInt64 = 1) throws(ArchitectureError) {
        let plan = try NetworkPlan(input: input, nodes: nodes)
        var initializer = WeightInitializer(seed: seed)
        var layers: [Layer] = []
        var layerInputs: [[Int]] = []
        var nodeLayers: [Int] = []
        let specs = nodes.map(\.spec)
        for (i, spec) in specs.enumerated() {
            // The layer being built feeds a rectifier if the next non-normalising layer is one.
            let next = specs[(i + 1)...].first { if case .batchnorm = $0 { return false } else { return true } }
            initializer.rectified = next?.isRectifier ?? false
            var sources = plan.inputs[i].map { $0 < 0 ? -1 : nodeLayers[$0] }
            let shapes = sources.map { $0 < 0 ? input : layers[$0].outputShape }
            var shape = shapes[0]
            if case .dense = spec, shape.height * shape.width > 1 {
                let flatten = FlattenLayer(input: shape)
                layers.append(flatten)
                layerInputs.append(sources)
                sources = [layers.count - 1]
                shape = flatten.outputShape
            }
            let layer: Layer
            switch spec {
            case .conv2d: layer = Conv2DLayer(index: layers.count, spec: spec, input: shape, initializer: &initializer)
            case .groupedConv2d:
                layer = GroupedConv2DLayer(index: layers.count, spec: spec, input: shape, initializer: &initializer)
            case .maxpool, .avgpool: layer = PoolLayer(spec: spec, input: shape)
            case .globalAvgpool: layer = GlobalAvgPoolLayer(input: shape)
            case .globalMaxpool: layer = GlobalMaxPoolLayer(input: shape)
            case .relu, .leakyRelu, .sigmoid, .tanh: layer = ActivationLayer(spec: spec, input: shape)
            case .relu6, .hardSwish: layer = ClippedActivationLayer(spec: spec, input: shape)
            case .flatten: layer = FlattenLayer(input: shape)
            case .dense: layer = DenseLayer(index: layers.count, spec: spec, input: shape, initializer: &initializer)
            case .dropout: layer = DropoutLayer(spec: spec, input: shape)
            case .batchnorm: layer = BatchNormLayer(index: layers.count, spec: spec, input: shape)
            case .add: layer = AddLayer(inputs: shapes)
            case .concat: layer = ConcatLayer(inputs: shapes)
            }
            assert(layer.outputShape == plan.shapes[i], "NetworkPlan and \(spec.kind) disagree on the shape")
            layers.append(layer)
            layerInputs.append(sources)
            nodeLayers.append(layers.count - 1)
        }
        self.inputShape = input
        self.layers = layers
        self.nodes = nodes
        self.layerInputs = layerInputs
        self.nodeLayers = nodeLayers
        isChain = layerInputs.enumerated().allSatisfy { i, sources in sources == [i - 1] }
    }

    /// Classes the network outputs.
    public var outputCount: Int { layers.last?.outputShape.channels ?? 0 }

    /// Every trainable tensor, in layer order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Every saved non-trainable tensor, in layer order.
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }

    /// Total trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Logits K×N for a batch. In a graph each output is kept until its last reader has run.
    /// `observe` sees every layer's output (its index in `layers`, the output) as it is made.
    /// With `after` = k, `input` is layer k's output and the layers after it run (cached
    /// features of a frozen backbone; only layer k may be read from before it); with `through`
    /// = e the pass stops at layer e and returns its output.
    public func forward(_ input: BatchTensor, context: inout LayerContext, after start: Int = -1, through end: Int? = nil,
                        observe: ((Int, BatchTensor) throws -> Void)? = nil) rethrows -> BatchTensor {
        let training = context.training, last = end ?? layers.count - 1
        defer { context.training = training }
        if isChain && observe == nil {
            var x = input
            for i in (start + 1)...last {
                context.training = training && i >= frozenLayers
                x = layers[i].forward(x, context: &context)
            }
            return x
        }
        var readers = [Int](repeating: 0, count: layers.count)
        for sources in layerInputs { for j in sources where j >= 0 { readers[j] += 1 } }
        var outputs = [BatchTensor?](repeating: nil, count: layers.count)
        if start >= 0 { outputs[start] = input }
        for (i, layer) in layers.enumerated() where i > start && i <= last {
            context.training = training && i >= frozenLayers
            let inputs = layerInputs[i].map { $0 < 0 ? input : outputs[$0]! }
            for j in layerInputs[i] where j >= 0 {
                readers[j] -= 1
                if readers[j] == 0 { outputs[j] = nil }
            }
            let output = (layer as? MergeLayer)?.forward(inputs, context: &context)
                ?? layer.forward(inputs[0], context: &context)
            try observe?(i, output)
            outputs[i] = output
        }
        return outputs[last]!
    }

    /// Back-propagates ∂loss/∂logits through every layer after the frozen ones, accumulating
    /// parameter gradients. In a graph the gradients of a tensor with several readers are summed
    /// before its layer runs backward. Layers that read only the network input or frozen layers
    /// are told their input gradient is not wanted.
    public func backward(_ gradient: BatchTensor, context: inout LayerContext) {
        let wanted = context.inputGradient
        defer { context.inputGradient = wanted }
        if isChain {
            var g = gradient
            for i in (frozenLayers..<layers.count).reversed() {
                context.inputGradient = i > frozenLayers
                g = layers[i].backward(g, context: &context)
            }
            return
        }
        var gradients = [BatchTensor?](repeating: nil, count: layers.count)
        gradients[layers.count - 1] = gradient
        for (i, layer) in layers.enumerated().reversed() where i >= frozenLayers {
            guard let g = gradients[i] else { continue }
            gradients[i] = nil
            let sources = layerInputs[i]
            context.inputGradient = sources.contains { $0 >= frozenLayers }
            let each = (layer as? MergeLayer)?.backwardEach(g, context: &context) ?? [layer.backward(g, context: &context)]
            for (j, d) in zip(sources, each) where j >= frozenLayers {
                // A fresh sum: the stored gradient may share its storage with another input's.
                gradients[j] = gradients[j].map { BatchTensor(sum: $0, d, threads: context.threads) } ?? d
            }
        }
    }

    /// Class probabilities for C×H×W images (already in the input shape), one row per image.
    public func predict(_ images: [Tensor], threads: Int = 1, batchSize: Int = 256) -> [[Float]] {
        var results: [[Float]] = []
        var start = 0
        while start < images.count {
            let chunk = Array(images[start..<min(start + batchSize, images.count)])
            let p = SoftmaxCrossEntropy.probabilities(infer(BatchTensor(stacking: chunk), threads: threads))
            for s in 0..<chunk.count { results.append((0..<p.channels).map { p.data[$0 * chunk.count + s] }) }
            start += batchSize
        }
        return results
    }
}
