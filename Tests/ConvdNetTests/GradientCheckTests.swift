// Every layer's backward pass against central finite differences (conv-semantics.md §6).
// The scalar checked is L = Σ G ⊙ forward(x) for a fixed random G, so ∂L/∂x = backward(G).
// Float32 with step h = 1e-2 on values in −1...1: a difference passes when
// |numeric − analytic| ≤ 2e-2 · max(1, |numeric|) (the truncation and rounding errors of a
// central difference in float32 at this step are about 1e-3).
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

private let step: Float = 1e-2
private let tolerance: Float = 2e-2

private func randomBatch(_ shape: SampleShape, batch: Int, _ g: inout SeededGenerator) -> BatchTensor {
    BatchTensor(channels: shape.channels, batch: batch, height: shape.height, width: shape.width,
                data: (0..<(shape.channels * batch * shape.height * shape.width)).map { _ in Float.random(in: -1...1, using: &g) })
}

/// Checks ∂L/∂x and ∂L/∂θ of `layer`; returns the number of values compared.
@discardableResult
private func check(_ layer: Layer, batch: Int = 3, training: Bool = true, seed: UInt64 = 1, scale: Float = 1) -> Int {
    var g = SeededGenerator(seed: seed)
    var x = randomBatch(layer.inputShape, batch: batch, &g)
    // Values within a step of a kink (ReLU6 at 0 and 6, hard-swish at ±3) have no derivative
    // a central difference can see; move them off it.
    x.data = x.data.map { v in
        let y = v * scale
        return [0, 6, -3, 3].contains { abs(y - $0) < 2 * step } ? y + 4 * step : y
    }
    let upstream = randomBatch(layer.outputShape, batch: batch, &g)
    func loss(_ input: BatchTensor) -> Float {
        var context = LayerContext(training: training, seed: 7)
        let y = layer.forward(input, context: &context)
        return zip(y.data, upstream.data).reduce(0) { $0 + $1.0 * $1.1 }
    }
    for p in layer.parameters { p.zeroGradient() }
    var context = LayerContext(training: training, seed: 7)
    _ = layer.forward(x, context: &context)
    let dx = layer.backward(upstream, context: &context)
    var compared = 0
    for i in x.data.indices {
        let saved = x.data[i]
        x.data[i] = saved + step
        let plus = loss(x)
        x.data[i] = saved - step
        let minus = loss(x)
        x.data[i] = saved
        let numeric = (plus - minus) / (2 * step)
        #expect(abs(numeric - dx.data[i]) <= tolerance * max(1, abs(numeric)),
                "\(layer.spec.kind) ∂x[\(i)]: numeric \(numeric), analytic \(dx.data[i])")
        compared += 1
    }
    for p in layer.parameters {
        let analytic = p.gradient
        for i in p.value.indices {
            let saved = p.value[i]
            p.value[i] = saved + step
            let plus = loss(x)
            p.value[i] = saved - step
            let minus = loss(x)
            p.value[i] = saved
            let numeric = (plus - minus) / (2 * step)
            #expect(abs(numeric - analytic[i]) <= tolerance * max(1, abs(numeric)),
                    "\(p.name)[\(i)]: numeric \(numeric), analytic \(analytic[i])")
            compared += 1
        }
    }
    return compared
}

private func build(_ spec: LayerSpec, input: SampleShape) -> Layer {
    var initializer = WeightInitializer(seed: 3)
    switch spec {
    case .conv2d: return Conv2DLayer(index: 0, spec: spec, input: input, initializer: &initializer)
    case .dense: return DenseLayer(index: 0, spec: spec, input: input, initializer: &initializer)
    case .maxpool, .avgpool: return PoolLayer(spec: spec, input: input)
    case .globalAvgpool: return GlobalAvgPoolLayer(input: input)
    case .flatten: return FlattenLayer(input: input)
    case .dropout: return DropoutLayer(spec: spec, input: input)
    case .batchnorm: return BatchNormLayer(index: 0, spec: spec, input: input)
    case .groupedConv2d: return GroupedConv2DLayer(index: 0, spec: spec, input: input, initializer: &initializer)
    case .globalMaxpool: return GlobalMaxPoolLayer(input: input)
    case .relu6, .hardSwish: return ClippedActivationLayer(spec: spec, input: input)
    default: return ActivationLayer(spec: spec, input: input)
    }
}

@Suite("gradients against finite differences")
struct GradientCheckTests {
    @Test("conv2d: padding, stride, dilation, 1×1, no bias", arguments: [
        LayerSpec.conv2d(filters: 3, size: 3, stride: 1, padding: 1, dilation: 1, bias: true),
        .conv2d(filters: 2, size: 3, stride: 2, padding: 0, dilation: 1, bias: true),
        .conv2d(filters: 2, size: 2, stride: 1, padding: 2, dilation: 2, bias: false),
        .conv2d(filters: 4, size: 1, stride: 1, padding: 0, dilation: 1, bias: true),
    ])
    func conv(_ spec: LayerSpec) {
        let layer = build(spec, input: SampleShape(channels: 2, height: 6, width: 7))
        // Bias starts at zero; give every parameter a random value so nothing is trivially 0.
        var g = SeededGenerator(seed: 5)
        for p in layer.parameters { p.value = p.value.map { _ in Float.random(in: -1...1, using: &g) } }
        #expect(check(layer) > 100)
    }

    @Test("grouped and depthwise conv2d", arguments: [
        LayerSpec.groupedConv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: true, groups: 2),
        .groupedConv2d(filters: 4, size: 3, stride: 2, padding: 1, dilation: 1, bias: false, groups: 4),
        .groupedConv2d(filters: 8, size: 2, stride: 1, padding: 1, dilation: 2, bias: true, groups: 4),
    ])
    func grouped(_ spec: LayerSpec) {
        let layer = build(spec, input: SampleShape(channels: 4, height: 5, width: 6))
        var g = SeededGenerator(seed: 9)
        for p in layer.parameters { p.value = p.value.map { _ in Float.random(in: -1...1, using: &g) } }
        #expect(check(layer) > 100)
        // A second batch after a weight change: the groups must see the new weights.
        layer.parameters[0].value = layer.parameters[0].value.map { $0 * -0.5 }
        #expect(check(layer, seed: 2) > 100)
    }

    @Test("global max pooling, ReLU6 and hard-swish (inputs spread over −8…8 to cross every kink)", arguments: [
        LayerSpec.globalMaxpool, .relu6, .hardSwish,
    ])
    func bounded(_ spec: LayerSpec) {
        let layer = build(spec, input: SampleShape(channels: 3, height: 4, width: 5))
        #expect(check(layer, scale: 8) > 50)
    }

    @Test("dense, flatten, pooling, global average pooling, activations, dropout", arguments: [
        LayerSpec.dense(units: 4), .flatten, .maxpool(size: 2, stride: 2), .avgpool(size: 3, stride: 1),
        .globalAvgpool, .relu, .leakyRelu(slope: 0.1), .sigmoid, .tanh, .dropout(rate: 0.5),
    ])
    func others(_ spec: LayerSpec) {
        let input: SampleShape
        if case .dense = spec { input = SampleShape(channels: 6, height: 1, width: 1) } else {
            input = SampleShape(channels: 2, height: 4, width: 5)
        }
        #expect(check(build(spec, input: input)) > 20)
    }

    @Test("batch normalisation, 2-D and 1-D, in training mode")
    func batchnorm() {
        let spec = LayerSpec.batchnorm(momentum: 0.1, epsilon: 1e-5)
        let conv = build(spec, input: SampleShape(channels: 2, height: 3, width: 3))
        var g = SeededGenerator(seed: 6)
        for p in conv.parameters { p.value = p.value.map { _ in Float.random(in: 0.5...1.5, using: &g) } }
        #expect(check(conv, batch: 4) > 70)
        #expect(check(build(spec, input: SampleShape(channels: 5, height: 1, width: 1)), batch: 6) > 30)
    }

    @Test("softmax cross-entropy: gradient (p − t)/N against finite differences, with and without label smoothing",
          arguments: [Float(0), 0.1, 0.3])
    func softmax(_ smoothing: Float) {
        var g = SeededGenerator(seed: 8)
        var logits = randomBatch(SampleShape(channels: 4, height: 1, width: 1), batch: 3, &g)
        let labels = [2, 0, 3]
        let analytic = SoftmaxCrossEntropy.loss(logits: logits, labels: labels, smoothing: smoothing).gradient
        for i in logits.data.indices {
            let saved = logits.data[i]
            logits.data[i] = saved + step
            let plus = SoftmaxCrossEntropy.loss(logits: logits, labels: labels, smoothing: smoothing).loss
            logits.data[i] = saved - step
            let minus = SoftmaxCrossEntropy.loss(logits: logits, labels: labels, smoothing: smoothing).loss
            logits.data[i] = saved
            #expect(abs((plus - minus) / (2 * step) - analytic.data[i]) <= 1e-3)
        }
    }
}

@Suite("conv-semantics.md §6 exact cases")
struct ConvBackwardExactTests {
    @Test("2×2 kernel on a 3×3 input: ∂K = X ⋆ ∂Z, ∂B = Σ ∂Z, ∂X = pad(∂Z) ⋆ rot180(K)")
    func smallCase() {
        var initializer = WeightInitializer(seed: 1)
        let layer = Conv2DLayer(index: 0, spec: .conv2d(filters: 1, size: 2, stride: 1, padding: 0, dilation: 1, bias: true),
                                input: SampleShape(channels: 1, height: 3, width: 3), initializer: &initializer)
        layer.weight.value = [1, 2, 3, 4]
        layer.bias?.value = [0.5]
        let x = BatchTensor(channels: 1, batch: 1, height: 3, width: 3, data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        var context = LayerContext(training: true)
        let z = layer.forward(x, context: &context)
        // Z = X ⋆ K + B: [1+4+12+20, 2+6+15+24; 4+10+21+32, 5+12+24+36] + 0.5
        #expect(z.data == [37.5, 47.5, 67.5, 77.5])
        let dz = BatchTensor(channels: 1, batch: 1, height: 2, width: 2, data: [1, 0, -1, 2])
        let dx = layer.backward(dz, context: &context)
        // ∂K = X ⋆ ∂Z (valid): [1·1+2·0+4·(-1)+5·2, 2+0-5+12; 4+0-7+16, 5+0-8+18]
        #expect(layer.weight.gradient == [7, 9, 13, 15])
        #expect(layer.bias?.gradient == [2])
        // ∂X = ∂Z zero-padded by 1, correlated with rot180(K) = [4,3;2,1] (full convolution).
        #expect(dx.data == [1, 2, 0, 2, 4, 4, -3, 2, 8])
    }
}
