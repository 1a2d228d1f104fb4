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

/// A feed-forward network.
public final class Network {
    /// Per-sample input shape.
    public let inputShape: SampleShape
    /// The layers, in order (implicit flattens included).
    public let layers: [Layer]
    /// The specs the network was built from (without implicit flattens).
    public let specs: [LayerSpec]
    /// Copies that `infer` runs on other threads (Network+Inference.swift); empty until then.
    var inferenceReplicas: [Network] = []
    /// The weights version each copy was last handed.
    var replicaVersions: [Int] = []
    /// The compiled inference plan, the weights version it was made for (nil plan: the layer
    /// order has none), and its per-thread workspaces (Network+Inference.swift).
    var inferencePlan: (plan: InferencePlan?, version: Int)?
    var planWorkspaces: [PlanWorkspace] = []

    /// Builds the network, drawing initial weights from `seed`, once its plan (checks, shapes
    /// and sizes within NetworkLimits) has passed.
    public init(input: SampleShape, specs: [LayerSpec], seed: UInt64 = 1) throws(ArchitectureError) {
        let plan = try NetworkPlan(input: input, specs: specs)
        var initializer = WeightInitializer(seed: seed)
        var layers: [Layer] = []
        var shape = input
        for (i, spec) in specs.enumerated() {
            // The layer being built feeds a rectifier if the next non-normalising layer is one.
            let next = specs[(i + 1)...].first { if case .batchnorm = $0 { return false } else { return true } }
            initializer.rectified = next?.isRectifier ?? false
            if case .dense = spec, shape.height * shape.width > 1 {
                let flatten = FlattenLayer(input: shape)
                layers.append(flatten)
                shape = flatten.outputShape
            }
            let layer: Layer
            switch spec {
            case .conv2d: layer = Conv2DLayer(index: layers.count, spec: spec, input: shape, initializer: &initializer)
            case .maxpool, .avgpool: layer = PoolLayer(spec: spec, input: shape)
            case .globalAvgpool: layer = GlobalAvgPoolLayer(input: shape)
            case .relu, .leakyRelu, .sigmoid, .tanh: layer = ActivationLayer(spec: spec, input: shape)
            case .flatten: layer = FlattenLayer(input: shape)
            case .dense: layer = DenseLayer(index: layers.count, spec: spec, input: shape, initializer: &initializer)
            case .dropout: layer = DropoutLayer(spec: spec, input: shape)
            case .batchnorm: layer = BatchNormLayer(index: layers.count, spec: spec, input: shape)
            }
            assert(layer.outputShape == plan.shapes[i], "NetworkPlan and \(spec.kind) disagree on the shape")
            layers.append(layer)
            shape = layer.outputShape
        }
        self.inputShape = input
        self.layers = layers
        self.specs = specs
    }

    /// Classes the network outputs.
    public var outputCount: Int { layers.last?.outputShape.channels ?? 0 }

    /// Every trainable tensor, in layer order.
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }

    /// Every saved non-trainable tensor, in layer order.
    public var buffers: [Buffer] { layers.flatMap(\.buffers) }

    /// Total trainable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Logits K×N for a batch.
    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        layers.reduce(input) { x, layer in layer.forward(x, context: &context) }
    }

    /// Back-propagates ∂loss/∂logits through every layer, accumulating parameter gradients (the
    /// first layer is told that its input gradient is not wanted).
    public func backward(_ gradient: BatchTensor, context: inout LayerContext) {
        var g = gradient
        let wanted = context.inputGradient
        for (i, layer) in layers.enumerated().reversed() {
            context.inputGradient = i > 0
            g = layer.backward(g, context: &context)
        }
        context.inputGradient = wanted
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
