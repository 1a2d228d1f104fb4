// Depthwise Conv (group = channels) on the blocked kernel against its definition: rows whose
// taps are all inside go four outputs at a time, the edges one at a time, so the shapes here
// put interior runs of 0–9 columns beside edges of every width, with strides, dilations,
// asymmetric pads and channel counts that leave a partial block.
@testable import ConvdOnnx
import ConvdTestSupport
import Foundation
import Testing

@Suite("ONNX depthwise convolution")
struct DepthwiseConvTests {
    struct Case: Sendable, CustomStringConvertible {
        let channels, height, width, kh, kw, stride, dilation: Int
        let pads: [Int]  // top, left, bottom, right
        var description: String { "\(channels)ch \(height)×\(width) k\(kh)×\(kw) s\(stride) d\(dilation) pads \(pads)" }
    }

    static let cases: [Case] = [
        Case(channels: 16, height: 9, width: 13, kh: 3, kw: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        Case(channels: 5, height: 7, width: 7, kh: 3, kw: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        Case(channels: 33, height: 12, width: 17, kh: 3, kw: 3, stride: 2, dilation: 1, pads: [0, 1, 1, 0]),
        Case(channels: 17, height: 11, width: 23, kh: 5, kw: 5, stride: 2, dilation: 1, pads: [2, 2, 2, 2]),
        Case(channels: 20, height: 10, width: 19, kh: 3, kw: 3, stride: 1, dilation: 2, pads: [2, 1, 0, 3]),
        Case(channels: 16, height: 6, width: 30, kh: 1, kw: 3, stride: 1, dilation: 1, pads: [0, 0, 0, 0]),
        Case(channels: 48, height: 4, width: 4, kh: 3, kw: 3, stride: 1, dilation: 1, pads: [1, 1, 1, 1]),
        Case(channels: 3, height: 15, width: 8, kh: 3, kw: 3, stride: 3, dilation: 1, pads: [1, 1, 1, 1]),
    ]

    @Test("blocked depthwise equals the definition", arguments: cases, [false, true])
    func matchesDefinition(_ c: Case, relu: Bool) throws {
        var generator = SeededGenerator(seed: UInt64(c.channels * 131 + c.width))
        let x = (0..<(c.channels * c.height * c.width)).map { _ in Float.random(in: -1...1, using: &generator) }
        let w = (0..<(c.channels * c.kh * c.kw)).map { _ in Float.random(in: -1...1, using: &generator) }
        let bias = (0..<c.channels).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
        var m = ModelBuilder()
        m.input("x", [1, Int64(c.channels), Int64(c.height), Int64(c.width)])
        m.weight("w", [Int64(c.channels), 1, Int64(c.kh), Int64(c.kw)], w)
        m.weight("b", [Int64(c.channels)], bias)
        m.node("Conv", ["x", "w", "b"], [relu ? "c" : "y"],
               ints: ["strides": [Int64(c.stride), Int64(c.stride)],
                      "dilations": [Int64(c.dilation), Int64(c.dilation)],
                      "pads": [c.pads[0], c.pads[1], c.pads[2], c.pads[3]].map(Int64.init),
                      "kernel_shape": [Int64(c.kh), Int64(c.kw)]],
               int: ["group": Int64(c.channels)])
        if relu { m.node("Relu", ["c"], ["y"]) }
        m.output("y")
        let dir = TemporaryDirectory()
        let graph = try OnnxImporter.load(m.save(in: dir))
        #expect(graph.rows.map(\.op) == ["Conv"], "\(c): the Relu fuses into the convolution")
        let outH = (c.height + c.pads[0] + c.pads[2] - c.dilation * (c.kh - 1) - 1) / c.stride + 1
        let outW = (c.width + c.pads[1] + c.pads[3] - c.dilation * (c.kw - 1) - 1) / c.stride + 1
        for threads in [1, 2] {
            let y = graph.run([OnnxTensor(shape: [1, c.channels, c.height, c.width], floats: x)], threads: threads)[0]
            #expect(y.shape == [1, c.channels, outH, outW], "\(c)")
            var worst: Float = 0
            for ch in 0..<c.channels {
                for oy in 0..<outH {
                    for ox in 0..<outW {
                        var sum = Double(bias[ch])
                        for a in 0..<c.kh {
                            let iy = oy * c.stride - c.pads[0] + a * c.dilation
                            guard iy >= 0 && iy < c.height else { continue }
                            for b in 0..<c.kw {
                                let ix = ox * c.stride - c.pads[1] + b * c.dilation
                                guard ix >= 0 && ix < c.width else { continue }
                                sum += Double(w[(ch * c.kh + a) * c.kw + b]) * Double(x[(ch * c.height + iy) * c.width + ix])
                            }
                        }
                        let expected = relu ? max(0, Float(sum)) : Float(sum)
                        worst = max(worst, abs(y.floats[(ch * outH + oy) * outW + ox] - expected))
                    }
                }
            }
            #expect(worst <= 1e-5, "\(c), \(threads) threads: off by \(worst)")
        }
    }
}
