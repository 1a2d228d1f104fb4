// One implementation per operation: network layers run ConvdCore's activation and pooling
// loops, so a layer's forward pass equals the chain operator on every map, and pooling equals
// its definition (conv-semantics.md §3) on random maps with edges, strides and padding.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("layers share ConvdCore's operators")
struct SharedOperatorTests {
    @Test("pooling equals its definition for every window, stride, padding and thread count")
    func poolingDefinition() {
        var generator = SeededGenerator(seed: 21)
        for kind in PoolKind.allCases {
            for window in 1...4 {
                for stride in 1...3 {
                    for padding in [Padding.valid, .same, .explicit(1), .explicit(5)] {
                        let input = randomTensor(channels: 3, height: Int.random(in: 1...13, using: &generator),
                                                 width: Int.random(in: 1...17, using: &generator), using: &generator)
                        let pooling = Pooling(kind: kind, window: window, stride: stride, padding: padding)
                        let g = pooling.geometry(height: input.height, width: input.width)
                        guard g.outputHeight > 0 && g.outputWidth > 0 else { continue }
                        var expected: [Float] = []
                        for c in 0..<3 {
                            for i in 0..<g.outputHeight {
                                for j in 0..<g.outputWidth {
                                    var inside: [Float] = []
                                    for a in 0..<window {
                                        for b in 0..<window {
                                            let y = g.rows.inputIndex(output: i, tap: a), x = g.columns.inputIndex(output: j, tap: b)
                                            if y >= 0 && y < input.height && x >= 0 && x < input.width { inside.append(input[c, y, x]) }
                                        }
                                    }
                                    if kind == .max {
                                        expected.append(inside.max() ?? -.infinity)
                                    } else {
                                        expected.append(inside.isEmpty ? 0 : inside.reduce(0, +) / Float(inside.count))
                                    }
                                }
                            }
                        }
                        for threads in [1, 2] {
                            let got = pooling.apply(input, threads: threads).scalars
                            #expect(maxAbsDifference(got, expected) <= 1e-6, "\(kind) \(window) s\(stride) \(padding)")
                        }
                    }
                }
            }
        }
    }

    @Test("Conv2DLayer's inference forward, blocked and im2col, equals the chain convolution's reference loop",
          arguments: [(3, 4), (17, 20), (32, 33)])
    func convLayerEqualsConvolution(channels: Int, filters: Int) {
        var generator = SeededGenerator(seed: 23)
        // 21 columns: one 16-pixel run through the register transpose of pack/unpack, and a remainder.
        let (height, width, batch) = (10, 21, 2)
        let shape = SampleShape(channels: channels, height: height, width: width)
        let area = height * width
        for (size, stride, padding, dilation) in [(3, 1, 1, 1), (5, 2, 2, 1), (3, 2, 0, 2), (1, 1, 0, 1), (2, 3, 4, 1),
                                                  (1, 1, 6, 1)] {
            var initializer = WeightInitializer(seed: 5)
            let spec = LayerSpec.conv2d(filters: filters, size: size, stride: stride, padding: padding,
                                        dilation: dilation, bias: true)
            let layer = Conv2DLayer(index: 0, spec: spec, input: shape, initializer: &initializer)
            layer.bias!.value = (0..<filters).map { Float($0 % 5) * 0.25 - 0.5 }
            let data = (0..<(channels * batch * area)).map { _ in Float.random(in: -1...1, using: &generator) }
            let patch = channels * size * size
            let kernels = (0..<filters).map { k in
                Kernel(depth: channels, height: size, width: size,
                       weights: Array(layer.weight.value[(k * patch)..<((k + 1) * patch)]))
            }
            let conv = Convolution(kernels: kernels, padding: .explicit(padding), border: .zero, stride: stride,
                                   dilation: dilation, mode: .sum)
            // 7 threads: chunks of output rows that read only the padding.
            for (blocked, threads) in [(true, 1), (true, 2), (true, 7), (false, 2)] {
                var context = LayerContext(training: false, threads: threads)
                context.blockedConvolution = blocked
                let input = BatchTensor(channels: channels, batch: batch, height: height, width: width, data: data)
                let out = layer.forward(input, context: &context)
                for sample in 0..<batch {
                    // Sample n of a C×N×H×W batch: channel c's plane is at (c·N + n)·H·W.
                    var planes: [Float] = []
                    for c in 0..<channels {
                        let start: Int = (c * batch + sample) * area
                        planes += data[start..<(start + area)]
                    }
                    let expected = conv.apply(Tensor(channels: channels, height: height, width: width, scalars: planes),
                                              path: .reference)
                    let plane = out.height * out.width
                    for k in 0..<filters {
                        let at: Int = (k * batch + sample) * plane
                        let got = Array(out.data[at..<(at + plane)])
                        let bias: Float = layer.bias!.value[k]
                        let want: [Float] = expected.scalars[(k * plane)..<((k + 1) * plane)].map { $0 + bias }
                        #expect(maxAbsDifference(got, want) <= 1e-5,
                                "\(channels)→\(filters) size \(size) stride \(stride) padding \(padding) d\(dilation) blocked \(blocked) t\(threads)")
                    }
                }
            }
        }
    }

    @Test("maxPoolArgmax gives pool's values and the window's first maximum; backward routes to it")
    func maxPoolArgmax() {
        var generator = SeededGenerator(seed: 24)
        for (window, stride) in [(2, 2), (3, 2), (2, 1), (3, 3)] {
            // Values from a set of five, so windows hold ties; one NaN.
            var data = (0..<(4 * 9 * 11)).map { _ in Float(Int.random(in: 0...4, using: &generator)) }
            data[17] = .nan
            let pooling = Pooling(kind: .max, window: window, stride: stride)
            let g = pooling.geometry(height: 9, width: 11)
            var values = [Float](repeating: 0, count: 4 * g.outputHeight * g.outputWidth)
            var argmax = [Int32](repeating: -1, count: values.count)
            for threads in [1, 2] {
                data.withUnsafeBufferPointer { x in
                    values.withUnsafeMutableBufferPointer { y in
                        argmax.withUnsafeMutableBufferPointer { a in
                            pooling.maxPoolArgmax(maps: x.baseAddress!, count: 4, height: 9, width: 11, into: y.baseAddress!,
                                                  argmax: a.baseAddress!, threads: threads)
                        }
                    }
                }
                let expected = pooling.apply(Tensor(channels: 4, height: 9, width: 11, scalars: data)).scalars
                #expect(zip(values, expected).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
                for m in 0..<4 {
                    for i in 0..<g.outputHeight {
                        for j in 0..<g.outputWidth {
                            let o = (m * g.outputHeight + i) * g.outputWidth + j
                            let samples = (0..<window).flatMap { a in (0..<window).map { b in (i * stride + a) * 11 + j * stride + b } }
                            let first = samples.first { data[m * 99 + $0] == values[o] } ?? samples[0]
                            #expect(argmax[o] == Int32(first), "window \(window) stride \(stride) output \(o)")
                        }
                    }
                }
            }
        }
        // The layer's backward: each output's gradient goes to that position alone.
        let layer = PoolLayer(spec: .maxpool(size: 2, stride: 2), input: SampleShape(channels: 1, height: 2, width: 4))
        var context = LayerContext(training: true)
        let y = layer.forward(BatchTensor(channels: 1, batch: 1, height: 2, width: 4, data: [0, 0, 1, 3, 0, 0, 3, 2]),
                              context: &context)
        #expect(y.data == [0, 3])
        let dx = layer.backward(BatchTensor(channels: 1, batch: 1, height: 1, width: 2, data: [5, 7]), context: &context)
        #expect(dx.data == [5, 0, 0, 7, 0, 0, 0, 0])
    }

    @Test("PoolLayer and ActivationLayer forward equal the chain operators map by map")
    func layersEqualOperators() {
        var generator = SeededGenerator(seed: 22)
        let shape = SampleShape(channels: 2, height: 9, width: 11)
        let batch = 3
        let data = (0..<(2 * batch * 9 * 11)).map { _ in Float.random(in: -1...1, using: &generator) }
        let input = BatchTensor(channels: 2, batch: batch, height: 9, width: 11, data: data)
        // C×N×H×W: map m = c·N + n is a 9×11 plane; as a Tensor, the C·N maps are its channels.
        let maps = Tensor(channels: 2 * batch, height: 9, width: 11, scalars: data)
        var context = LayerContext(training: false, threads: 2)
        for (spec, pooling) in [(LayerSpec.maxpool(size: 2, stride: 2), Pooling(kind: .max, window: 2)),
                                (.avgpool(size: 3, stride: 2), Pooling(kind: .average, window: 3, stride: 2))] {
            let layer = PoolLayer(spec: spec, input: shape)
            #expect(layer.forward(input, context: &context).data == pooling.apply(maps).scalars)
        }
        for (spec, function) in [(LayerSpec.relu, Activation.relu), (.leakyRelu(slope: 0.1), .leakyRelu(0.1)),
                                 (.sigmoid, .sigmoid), (.tanh, .tanh)] {
            let layer = ActivationLayer(spec: spec, input: shape)
            #expect(layer.forward(input, context: &context).data == function.apply(maps).scalars)
        }
        // ReLU lets NaN through (as PyTorch does) and keeps -0, in the vector lanes and the tail alike.
        let special: [Float] = [.nan, -0.0, -1, 2] + [Float](repeating: -3, count: 16) + [.nan, -0.0, -1, 2]
        let out = Activation.relu.apply(Tensor(channels: 1, height: 1, width: special.count, scalars: special)).scalars
        for k in [0, 20] {
            #expect(out[k].isNaN && out[k + 1] == 0 && out[k + 1].sign == .minus && out[k + 2] == 0 && out[k + 3] == 2)
        }
        #expect(out[4..<20].allSatisfy { $0 == 0 })
    }
}
