// The element-wise layers on batches long enough to be split over two threads
// (parallelElementwise): ReLU and leaky ReLU forward and backward, and the residual add, equal
// their scalar definitions exactly, on one thread and on two.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("Element-wise layers on threads")
struct ElementwiseLayerThreadsTests {
    // 3 channels × 5 samples × 67 × 71 = 71,355 values: past two threads' minimum, and not a
    // multiple of 16 (a scalar tail in the last chunk).
    private let shape = SampleShape(channels: 3, height: 67, width: 71)
    private let batch = 5

    private func random(seed: UInt64) -> BatchTensor {
        var generator = SeededGenerator(seed: seed)
        let count = shape.channels * batch * shape.height * shape.width
        return BatchTensor(channels: shape.channels, batch: batch, height: shape.height, width: shape.width,
                           data: (0..<count).map { _ in Float.random(in: -1...1, using: &generator) })
    }

    @Test("ReLU and leaky ReLU: forward and backward on 1 and 2 threads")
    func rectifiers() {
        #expect(shape.channels * batch * shape.height * shape.width > 2 * parallelElementwiseMinimum)
        let x = random(seed: 31), dy = random(seed: 32)
        for (spec, slope) in [(LayerSpec.relu, Float(0)), (.leakyRelu(slope: 0.1), 0.1)] {
            for threads in [1, 2] {
                let layer = ActivationLayer(spec: spec, input: shape)
                var context = LayerContext(training: true, threads: threads)
                let y = layer.forward(x, context: &context)
                let dx = layer.backward(dy, context: &context)
                let expected: [UInt32] = x.data.map { v in
                    let r: Float = slope == 0 ? (v < 0 ? 0 : v) : (v > 0 ? v : slope * v)
                    return r.bitPattern
                }
                let gradient: [UInt32] = (0..<x.data.count).map { i in
                    let g: Float = x.data[i] <= 0 ? dy.data[i] * slope : dy.data[i]
                    return g.bitPattern
                }
                #expect(y.data.map(\.bitPattern) == expected, "\(spec) threads \(threads)")
                #expect(dx.data.map(\.bitPattern) == gradient, "\(spec) threads \(threads)")
                #expect(dy.data == random(seed: 32).data, "∂Y is left as it was")
            }
        }
    }

    @Test("add: two and three inputs on 1 and 2 threads; backward hands ∂Y to each input")
    func add() {
        let a = random(seed: 41), b = random(seed: 42), c = random(seed: 43)
        for threads in [1, 2] {
            var context = LayerContext(training: true, threads: threads)
            let two = AddLayer(inputs: [shape, shape])
            let pairSum: [UInt32] = (0..<a.data.count).map { i in (a.data[i] + b.data[i]).bitPattern }
            let pair: [UInt32] = two.forward([a, b], context: &context).data.map(\.bitPattern)
            #expect(pair == pairSum, "threads \(threads)")
            let three = AddLayer(inputs: [shape, shape, shape])
            let tripleSum: [UInt32] = (0..<a.data.count).map { i in
                let ab: Float = a.data[i] + b.data[i]
                return (ab + c.data[i]).bitPattern
            }
            let triple: [UInt32] = three.forward([a, b, c], context: &context).data.map(\.bitPattern)
            #expect(triple == tripleSum, "threads \(threads)")
            #expect(a.data == random(seed: 41).data, "the first input is left as it was")
            #expect(three.backwardEach(c, context: &context).map(\.data) == [c.data, c.data, c.data])
        }
    }
}
