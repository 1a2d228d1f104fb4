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

    /// Builds the network, drawing initial weights from `seed`.
    public init(input: SampleShape, specs: [LayerSpec], seed: UInt64 = 1) throws(ArchitectureError) {
        guard input.channels > 0 && input.height > 0 && input.width > 0 else {
            throw ArchitectureError(layer: nil, message: "input shape \(input) is empty")
        }
        guard !specs.isEmpty else { throw ArchitectureError(layer: nil, message: "no layers") }
        var initializer = WeightInitializer(seed: seed)
        var layers: [Layer] = []
        var shape = input
        for (i, spec) in specs.enumerated() {
            let name = "\(spec.kind)" + (spec.summary.isEmpty ? "" : " \(spec.summary)")
            try Self.check(spec, layer: i + 1, name: name)
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
            let out = layer.outputShape
            guard out.channels > 0 && out.height > 0 && out.width > 0 else {
                throw ArchitectureError(layer: i + 1, message: "\(name): input \(shape) shrinks to \(out)")
            }
            layers.append(layer)
            shape = out
        }
        guard shape.height == 1 && shape.width == 1 else {
            throw ArchitectureError(layer: specs.count, message: "the last layer must give a vector of class scores "
                                    + "(end with dense or global_avgpool), not \(shape)")
        }
        self.inputShape = input
        self.layers = layers
        self.specs = specs
    }

    private static func check(_ spec: LayerSpec, layer: Int, name: String) throws(ArchitectureError) {
        func positive(_ values: [(String, Int)]) throws(ArchitectureError) {
            for (key, v) in values where v < 1 {
                throw ArchitectureError(layer: layer, message: "\(name): \(key) must be at least 1, got \(v)")
            }
        }
        switch spec {
        case let .conv2d(filters, size, stride, padding, dilation, _):
            try positive([("filters", filters), ("size", size), ("stride", stride), ("dilation", dilation)])
            if padding < 0 { throw ArchitectureError(layer: layer, message: "\(name): padding must be 0 or more") }
        case let .maxpool(size, stride), let .avgpool(size, stride):
            try positive([("size", size), ("stride", stride)])
        case .dense(let units):
            try positive([("units", units)])
        case .dropout(let rate) where !(rate >= 0 && rate < 1):
            throw ArchitectureError(layer: layer, message: "\(name): rate must be in [0, 1)")
        default:
            break
        }
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

    /// Back-propagates ∂loss/∂logits through every layer, accumulating parameter gradients.
    public func backward(_ gradient: BatchTensor, context: inout LayerContext) {
        _ = layers.reversed().reduce(gradient) { g, layer in layer.backward(g, context: &context) }
    }

    /// Class probabilities for C×H×W images (already in the input shape), one row per image.
    public func predict(_ images: [Tensor], threads: Int = 1, batchSize: Int = 256) -> [[Float]] {
        var results: [[Float]] = []
        var context = LayerContext(training: false, threads: threads)
        var start = 0
        while start < images.count {
            let chunk = Array(images[start..<min(start + batchSize, images.count)])
            let p = SoftmaxCrossEntropy.probabilities(forward(BatchTensor(stacking: chunk), context: &context))
            for s in 0..<chunk.count { results.append((0..<p.channels).map { p.data[$0 * chunk.count + s] }) }
            start += batchSize
        }
        return results
    }
}
