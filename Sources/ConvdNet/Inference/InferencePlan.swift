// InferencePlan: a network compiled once for inference, run image by image on maps stored as
// blocks of 16 channels (NCHW16c, CConvKernels' blocked.c). Building it packs every
// convolution's weights into the kernel's order, folds a batch normalisation that follows a
// convolution or dense layer into its weights and bias, fuses a ReLU that follows into the
// kernel's store, and gives every map the zero border its consumer's padding needs, so no
// kernel tests a bound. The first convolution reads the image planes straight from the batch
// (copied into a padded buffer); a dense layer after a map gets its weights permuted into the
// blocked order, so nothing is ever transposed back. Networks with a layer order the plan does
// not cover (a convolution after a dense layer, say) get no plan and run layer by layer.
import ConvdCore

/// A map of `channels` channels as blocks of 16, each block height×width pixels of 16 lanes,
/// inside a zero border of `border` pixels on every side.
struct BlockedMap: Equatable {
    let channels: Int
    let height: Int
    let width: Int
    let border: Int

    var blocks: Int { (channels + 15) / 16 }
    var rowStride: Int { (width + 2 * border) * 16 }
    var blockStride: Int { (height + 2 * border) * rowStride }
    var count: Int { blocks * blockStride }
    /// Offset of pixel (0, 0) of block 0 inside the buffer.
    var origin: Int { border * rowStride + border * 16 }
}

/// Where a step's input or output lives: a workspace buffer and its layout.
enum PlanValue {
    /// The image planes, planar, inside a zero border (only as the first convolution's input).
    case planar(buffer: Int, shape: SampleShape, border: Int)
    /// A blocked map.
    case map(buffer: Int, BlockedMap)
    /// A blocked map read as C·H·W features by the dense layer that follows a flatten.
    case flat(buffer: Int, BlockedMap)
    /// `count` features in order.
    case vector(buffer: Int, count: Int)
}

/// One convolution with its packed weights.
struct ConvStep {
    let input: PlanValue
    let channels: Int
    let output: Int
    let map: BlockedMap
    let packed: BlockedConvWeights
    let kernel: Int
    let stride: Int
    let dilation: Int
    let relu: Bool
}

/// One fully connected layer: weights units×inputs (inputs in the order of the input buffer).
struct DenseStep {
    let input: Int
    let output: Int
    let weights: [Float]
    let bias: [Float]
    let units: Int
    let inputs: Int
    let relu: Bool
}

/// What an element-wise step runs over: a map's interior pixels, or the first `count` values.
enum PlanRegion {
    case map(BlockedMap)
    case vector(Int)
}

/// One operation of the plan, in order.
enum PlanStep {
    case conv(ConvStep)
    case dense(DenseStep)
    case pool(input: Int, BlockedMap, output: Int, BlockedMap, size: Int, stride: Int, average: Bool)
    case globalAverage(input: Int, BlockedMap, output: Int, BlockedMap)
    /// In place.
    case activation(Activation, buffer: Int, PlanRegion)
    /// In place: value · scale + shift, per lane position (maps: block·16 + lane; vectors: index).
    case affine(scale: [Float], shift: [Float], buffer: Int, PlanRegion)
}

/// A network compiled for image-by-image inference.
final class InferencePlan: @unchecked Sendable {
    /// The per-sample input shape.
    let input: SampleShape
    /// Where the image is copied to.
    let inputValue: PlanValue
    let steps: [PlanStep]
    /// Floats per workspace buffer.
    let bufferSizes: [Int]
    /// The buffer holding the logits after the last step.
    let outputBuffer: Int
    /// Logits per image.
    let outputCount: Int
    /// Where the trailing fully connected layers start, run for chunks of images (DenseTail).
    let denseTail: Int?

    /// The plan for `network`, or nil when its layer order is not covered (graphs run layer by layer).
    init?(network: Network) {
        guard network.isChain else { return nil }
        var builder = PlanBuilder(layers: network.layers)
        guard let built = builder.build(input: network.inputShape) else { return nil }
        input = network.inputShape
        inputValue = built.input
        steps = builder.steps
        bufferSizes = builder.sizes
        outputBuffer = built.output
        outputCount = built.count
        denseTail = Self.denseTailStart(steps, outputBuffer: outputBuffer)
    }
}

extension Network {
    /// Changes whenever a parameter or buffer is written.
    var weightsVersion: Int {
        parameters.reduce(0) { $0 &+ $1.version } &+ buffers.reduce(0) { $0 &+ $1.version }
    }
}

/// Walks the layers once, packing weights and assigning buffers.
private struct PlanBuilder {
    let layers: [Layer]
    var steps: [PlanStep] = []
    var sizes: [Int] = []

    init(layers: [Layer]) {
        self.layers = layers
    }

    mutating func buffer(_ floats: Int) -> Int {
        sizes.append(floats)
        return sizes.count - 1
    }

    /// The zero border the output of layer `i` needs: its consumer's padding when that is a
    /// convolution (element-wise layers in between keep the border as it is).
    func border(after i: Int) -> Int {
        for layer in layers[(i + 1)...] {
            switch layer {
            case is ActivationLayer, is BatchNormLayer, is DropoutLayer: continue
            case let conv as Conv2DLayer: return conv.rows.padBefore
            default: return 0
            }
        }
        return 0
    }

    mutating func map(_ shape: SampleShape, after i: Int) -> (Int, BlockedMap) {
        let map = BlockedMap(channels: shape.channels, height: shape.height, width: shape.width, border: border(after: i))
        return (buffer(map.count), map)
    }

    /// Builds every step; returns the input's place and the logits' buffer and count.
    mutating func build(input shape: SampleShape) -> (input: PlanValue, output: Int, count: Int)? {
        guard !layers.isEmpty else { return nil }
        let inputValue: PlanValue
        if let first = layers.first as? Conv2DLayer {
            let p = first.rows.padBefore
            inputValue = .planar(buffer: buffer(shape.channels * (shape.height + 2 * p) * (shape.width + 2 * p)),
                                 shape: shape, border: p)
        } else {
            let (b, m) = map(shape, after: -1)
            inputValue = .map(buffer: b, m)
        }
        var value = inputValue
        var i = 0
        while i < layers.count {
            let layer = layers[i]
            switch layer {
            case let conv as Conv2DLayer:
                guard let (next, consumed) = convolution(conv, at: i, input: value) else { return nil }
                value = next
                i = consumed
                continue
            case let dense as DenseLayer:
                guard let (next, consumed) = fullyConnected(dense, at: i, input: value) else { return nil }
                value = next
                i = consumed
                continue
            case let pool as PoolLayer:
                guard case let .map(b, m) = value, pool.rows.padBefore == 0 else { return nil }
                let (ob, om) = map(pool.outputShape, after: i)
                steps.append(.pool(input: b, m, output: ob, om, size: pool.size, stride: pool.rows.stride,
                                   average: pool.kind == .average))
                value = .map(buffer: ob, om)
            case is GlobalAvgPoolLayer:
                guard case let .map(b, m) = value else { return nil }
                let (ob, om) = map(layer.outputShape, after: i)
                steps.append(.globalAverage(input: b, m, output: ob, om))
                value = .map(buffer: ob, om)
            case let activation as ActivationLayer:
                guard let region = region(of: value) else { return nil }
                steps.append(.activation(activation.function, buffer: buffer(of: value), region))
            case let norm as BatchNormLayer:
                let (scale, shift) = norm.inferenceAffine
                switch value {
                case let .map(b, m):
                    steps.append(.affine(scale: lanes(scale, m, fill: 1), shift: lanes(shift, m, fill: 0), buffer: b,
                                         .map(m)))
                case let .vector(b, count):
                    steps.append(.affine(scale: scale, shift: shift, buffer: b, .vector(count)))
                default: return nil
                }
            case is DropoutLayer:
                break
            case is FlattenLayer:
                switch value {
                case let .map(b, m) where m.height == 1 && m.width == 1 && m.border == 0:
                    value = .vector(buffer: b, count: m.channels)
                case let .map(b, m) where m.border == 0:
                    value = .flat(buffer: b, m)
                case .vector: break
                default: return nil
                }
            default:
                return nil
            }
            i += 1
        }
        switch value {
        case let .vector(b, count): return (inputValue, b, count)
        case let .map(b, m) where m.height == 1 && m.width == 1 && m.border == 0: return (inputValue, b, m.channels)
        default: return nil
        }
    }

    func buffer(of value: PlanValue) -> Int {
        switch value {
        case let .planar(b, _, _), let .map(b, _), let .flat(b, _), let .vector(b, _): return b
        }
    }

    func region(of value: PlanValue) -> PlanRegion? {
        switch value {
        case let .map(_, m), let .flat(_, m): return .map(m)
        case let .vector(_, count): return .vector(count)
        case .planar: return nil
        }
    }

    /// Per-channel values spread over the map's lane positions (block·16 + lane).
    func lanes(_ values: [Float], _ m: BlockedMap, fill: Float) -> [Float] {
        (0..<(m.blocks * 16)).map { $0 < values.count ? values[$0] : fill }
    }

    /// The batch normalisation and ReLU right after layer `i`, folded into it: the per-output
    /// scale and shift, whether a ReLU follows, and the index after what was consumed.
    func epilogue(after i: Int, outputs: Int) -> (scale: [Float], shift: [Float], relu: Bool, next: Int) {
        var j = i + 1
        var scale = [Float](repeating: 1, count: outputs), shift = [Float](repeating: 0, count: outputs)
        if j < layers.count, let norm = layers[j] as? BatchNormLayer {
            (scale, shift) = norm.inferenceAffine
            j += 1
        }
        var relu = false
        if j < layers.count, let activation = layers[j] as? ActivationLayer, activation.function == .relu {
            relu = true
            j += 1
        }
        return (scale, shift, relu, j)
    }

    mutating func convolution(_ conv: Conv2DLayer, at i: Int, input: PlanValue) -> (PlanValue, Int)? {
        let c = conv.inputShape.channels, k = conv.outputShape.channels
        guard conv.runsBlocked else { return nil }
        let border: Int
        switch input {
        case let .planar(_, _, p): border = p
        case let .map(_, m): border = m.border
        default: return nil
        }
        guard border == conv.rows.padBefore else { return nil }
        let (scale, shift, relu, next) = epilogue(after: i, outputs: k)
        let (ob, om) = map(conv.outputShape, after: next - 1)
        let packed = BlockedConvWeights(conv, scale: scale, shift: shift)
        steps.append(.conv(ConvStep(input: input, channels: c, output: ob, map: om, packed: packed, kernel: conv.size,
                                    stride: conv.rows.stride, dilation: conv.rows.dilation, relu: relu)))
        return (.map(buffer: ob, om), next)
    }

    mutating func fullyConnected(_ dense: DenseLayer, at i: Int, input: PlanValue) -> (PlanValue, Int)? {
        let units = dense.outputShape.channels, d = dense.inputShape.channels
        // Where feature f of the layer's input is in the input buffer, and the buffer's length.
        let place: (Int) -> Int, inputs: Int, source: Int
        switch input {
        case let .vector(b, count):
            guard count == d else { return nil }
            (place, inputs, source) = ({ $0 }, d, b)
        case let .map(b, m) where m.height == 1 && m.width == 1 && m.border == 0:
            (place, inputs, source) = ({ $0 }, m.blocks * 16, b)
        case let .flat(b, m):
            let plane = m.height * m.width
            (place, inputs, source) = ({ f in ((f / plane / 16) * plane + f % plane) * 16 + (f / plane) % 16 },
                                       m.blocks * plane * 16, b)
        default: return nil
        }
        let (scale, shift, relu, next) = epilogue(after: i, outputs: units)
        var weights = [Float](repeating: 0, count: units * inputs)
        var bias = [Float](repeating: 0, count: units)
        let w = dense.weight.value
        for u in 0..<units {
            for f in 0..<d { weights[u * inputs + place(f)] = w[u * d + f] * scale[u] }
            bias[u] = dense.bias.value[u] * scale[u] + shift[u]
        }
        let output = buffer(units)
        steps.append(.dense(DenseStep(input: source, output: output, weights: weights, bias: bias, units: units,
                                      inputs: inputs, relu: relu)))
        return (.vector(buffer: output, count: units), next)
    }
}
