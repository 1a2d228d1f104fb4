// Networks as graphs (LayerNode, NetworkPlan, Network): shapes and errors of each construct,
// back-propagation through a shortcut and a concatenation against central differences, and
// model files that keep names and inputs. Also the training aids that residual networks use:
// AdamW, warm-up + cosine, label smoothing, with exact values.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Foundation
import Testing

private func conv(_ filters: Int, size: Int = 3, stride: Int = 1, padding: Int = 1) -> LayerSpec {
    .conv2d(filters: filters, size: size, stride: stride, padding: padding, dilation: 1, bias: true)
}

/// input 2×5×5 → a: conv 3 → r: tanh → b: conv 3 → s: add(a, b) → concat(s, r, input) → avgpool → dense 3
/// (smooth layers only, so that central differences see no kink).
private let graph: [LayerNode] = [
    LayerNode(conv(3), name: "a"),
    LayerNode(.tanh, name: "r"),
    LayerNode(conv(3), name: "b"),
    LayerNode(.add, name: "s", inputs: ["a", "b"]),
    LayerNode(.concat, inputs: ["s", "r", "input"]),
    LayerNode(.avgpool(size: 2, stride: 2)),
    LayerNode(.dense(units: 3)),
]
private let input = SampleShape(channels: 2, height: 5, width: 5)

private func planError(_ nodes: [LayerNode], input: SampleShape = input) -> String {
    do {
        _ = try NetworkPlan(input: input, nodes: nodes)
        return "no error"
    } catch {
        return error.description
    }
}

@Suite("networks as graphs")
struct GraphNetworkTests {
    @Test("shapes: add keeps the shape, concat adds channels, grouped conv, global max pooling")
    func shapes() throws {
        let plan = try NetworkPlan(input: input, nodes: graph)
        #expect(plan.shapes.map(\.description) == ["3×5×5", "3×5×5", "3×5×5", "3×5×5", "8×5×5", "8×2×2", "3×1×1"])
        #expect(plan.inputs == [[-1], [0], [1], [0, 2], [3, 1, -1], [4], [5]])
        // 2 convs of 3×2×3×3 + 3 and 3×3×3×3 + 3, dense 3×32 + 3.
        #expect(plan.parameterCount == 57 + 84 + 99)
        let grouped = try NetworkPlan(input: SampleShape(channels: 4, height: 6, width: 6), specs: [
            .groupedConv2d(filters: 8, size: 3, stride: 2, padding: 1, dilation: 1, bias: false, groups: 4),
            .globalMaxpool,
        ])
        #expect(grouped.shapes.map(\.description) == ["8×3×3", "8×1×1"])
        #expect(grouped.parameterCount == 8 * 1 * 9)
        let network = try Network(input: input, nodes: graph)
        #expect(!network.isChain)
        #expect(network.layerInputs == [[-1], [0], [1], [0, 2], [3, 1, -1], [4], [5], [6]], "flatten before dense")
        #expect(network.nodeLayers == [0, 1, 2, 3, 4, 5, 7])
        #expect(try Network(input: input, specs: [conv(2), .globalAvgpool]).isChain)
    }

    @Test("graph errors name the layer and the problem")
    func errors() {
        #expect(planError([LayerNode(conv(3), name: "a"), LayerNode(conv(4), name: "b"),
                           LayerNode(.add, inputs: ["a", "b"]), LayerNode(.globalAvgpool)])
                == "layer 3: add: inputs must have one shape, got 3×5×5 and 4×5×5")
        #expect(planError([LayerNode(conv(3, stride: 2), name: "a"), LayerNode(.concat, inputs: ["a", "input"]),
                           LayerNode(.globalAvgpool)])
                == "layer 2: concat: inputs must have one height and width, got 3×3×3 and 2×5×5")
        #expect(planError([LayerNode(conv(3)), LayerNode(.add, inputs: ["nope", "input"]), LayerNode(.globalAvgpool)])
                == "layer 2: add: input \"nope\" names no layer (inputs are layer names or \"input\")")
        #expect(planError([LayerNode(conv(2), inputs: ["later"]), LayerNode(.globalAvgpool, name: "later")])
                == "layer 1: conv2d: input \"later\" is written below this layer; a layer reads only layers above it")
        #expect(planError([LayerNode(conv(2), name: "a"), LayerNode(conv(2), name: "a"), LayerNode(.globalAvgpool)])
                == "layer 2: conv2d: the name \"a\" is already layer 1's")
        #expect(planError([LayerNode(conv(2)), LayerNode(.add), LayerNode(.globalAvgpool)])
                == "layer 2: add needs at least two inputs, e.g. inputs = [\"a\", \"b\"]")
        #expect(planError([LayerNode(conv(2), name: "a"), LayerNode(conv(2), name: "dead", inputs: ["a"]),
                           LayerNode(.globalAvgpool, inputs: ["a"])])
                == "layer 2: conv2d \"dead\": no later layer reads its output (give the next layer an inputs list that names it)")
        #expect(planError([LayerNode(conv(2), name: "a"), LayerNode(.relu, inputs: ["a", "input"]),
                           LayerNode(.globalAvgpool)]) == "layer 2: relu takes one input, not 2")
        #expect(planError([LayerNode(.groupedConv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: true,
                                                    groups: 3)), LayerNode(.globalAvgpool)])
                == "layer 1: conv2d 4×3×3, groups 3, pad 1: 4 filters do not divide into 3 groups")
        #expect(planError([LayerNode(.groupedConv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: true,
                                                    groups: 4)), LayerNode(.globalAvgpool)])
                == "layer 1: conv2d 4×3×3, groups 4, pad 1: 2 input channels do not divide into 4 groups")
        let fields: [String: FieldValue] = ["type": .string("relu"), "name": .string("input")]
        #expect(throws: ArchitectureError.self) { try LayerNode(fields: fields, layer: 1) }
        let digits: [String: FieldValue] = ["type": .string("relu"), "name": .string("5")]
        #expect(throws: ArchitectureError.self) { try LayerNode(fields: digits, layer: 1) }
        // Each group's unfolded input is kept in training: their total is what the cap limits.
        #expect(planError([LayerNode(.groupedConv2d(filters: 1024, size: 31, stride: 1, padding: 15, dilation: 1,
                                                    bias: false, groups: 1024)), LayerNode(.globalAvgpool)],
                          input: SampleShape(channels: 1024, height: 128, width: 128))
                == "layer 1: conv2d 1024×31×31, groups 1024, pad 15, no bias: the unfolded input would have 16122904576 values, "
                + "over the limit of 1073741824")
        let bad: [String: FieldValue] = ["type": .string("relu"), "inputs": .number(3)]
        #expect(throws: ArchitectureError.self) { try LayerNode(fields: bad, layer: 1) }
    }

    @Test("parameter gradients through a shortcut (add) and a concat of three tensors, one the input")
    func gradients() throws {
        let network = try Network(input: input, nodes: graph, seed: 4)
        var g = SeededGenerator(seed: 11)
        for p in network.parameters { p.value = p.value.map { _ in Float.random(in: -1...1, using: &g) } }
        let x = BatchTensor(channels: 2, batch: 2, height: 5, width: 5,
                            data: (0..<100).map { _ in Float.random(in: -1...1, using: &g) })
        let upstream = BatchTensor(channels: 3, batch: 2, height: 1, width: 1,
                                   data: (0..<6).map { _ in Float.random(in: -1...1, using: &g) })
        func loss() -> Float {
            var context = LayerContext(training: true)
            return zip(network.forward(x, context: &context).data, upstream.data).reduce(0) { $0 + $1.0 * $1.1 }
        }
        var context = LayerContext(training: true)
        _ = network.forward(x, context: &context)
        network.backward(upstream, context: &context)
        let h: Float = 1e-2
        var compared = 0
        for p in network.parameters {
            let analytic = p.gradient
            for i in p.value.indices {
                let saved = p.value[i]
                p.value[i] = saved + h
                let plus = loss()
                p.value[i] = saved - h
                let minus = loss()
                p.value[i] = saved
                let numeric = (plus - minus) / (2 * h)
                #expect(abs(numeric - analytic[i]) <= 2e-2 * max(1, abs(numeric)), "\(p.name)[\(i)]")
                compared += 1
            }
        }
        #expect(compared == 240)
        // The first convolution's weights get gradient from all three of its readers' paths.
        #expect(network.parameters[0].gradient.contains { $0 != 0 })
    }

    @Test("a graph model file keeps names and inputs and gives the same outputs")
    func modelFile() throws {
        let rgb = SampleShape(channels: 3, height: 5, width: 5)
        let network = try Network(input: rgb, nodes: graph, seed: 5)
        let model = Model(network: network, input: InputSpec(width: 5, height: 5, channels: 3, mean: 0, std: 1),
                          labels: ["a", "b", "c"])
        let back = try ModelFile.decode(ModelFile.encode(model), path: "g.safetensors")
        #expect(back.network.nodes == graph)
        var g = SeededGenerator(seed: 12)
        let x = BatchTensor(channels: 3, batch: 3, height: 5, width: 5,
                            data: (0..<225).map { _ in Float.random(in: -1...1, using: &g) })
        #expect(back.network.infer(x, threads: 1).data == network.infer(x, threads: 2).data)
    }

    @Test("AdamW decays weights apart from the gradient; Adam adds L2 to it (exact first steps)")
    func adamW() {
        func step(_ kind: OptimizerKind) -> Float {
            let p = Parameter(name: "w", shape: [1], value: [1], decays: true)
            p.gradient = [0.5]
            Optimizer(kind: kind, learningRate: 0.1, weightDecay: 0.1).update([p])
            return p.value[0]
        }
        // AdamW: 1 · (1 − 0.1·0.1) − 0.1 · m̂/√v̂ = 0.99 − 0.1; Adam: g = 0.5 + 0.1·1, 1 − 0.1.
        #expect(abs(step(.adamw) - 0.89) < 1e-6)
        #expect(abs(step(.adam) - 0.9) < 1e-6)
        let bias = Parameter(name: "b", shape: [1], value: [1], decays: false)
        bias.gradient = [0.5]
        Optimizer(kind: .adamw, learningRate: 0.1, weightDecay: 0.1).update([bias])
        #expect(abs(bias.value[0] - 0.9) < 1e-6, "no decay on biases")
    }

    @Test("warm-up then cosine: linear to the base rate, then half a cosine to 0")
    func warmupCosine() {
        let s = LearningRateSchedule.warmupCosine(warmup: 2)
        #expect(s.rate(base: 1, progress: 1, epochs: 10) == 0.5)
        #expect(s.rate(base: 1, progress: 0, epochs: 10) == 0.01)
        #expect(s.rate(base: 1, progress: 2, epochs: 10) == 1)
        #expect(abs(s.rate(base: 1, progress: 6, epochs: 10) - 0.5) < 1e-6)
        #expect(abs(s.rate(base: 1, progress: 10, epochs: 10)) < 1e-6)
    }

    @Test("label smoothing: loss log 2 and gradient ±0.4 for two equal logits at ε = 0.2")
    func labelSmoothing() {
        let logits = BatchTensor(channels: 2, batch: 1, height: 1, width: 1, data: [0, 0])
        let result = SoftmaxCrossEntropy.loss(logits: logits, labels: [0], smoothing: 0.2)
        #expect(abs(result.loss - logf(2)) < 1e-6)
        #expect(result.gradient.data.map { ($0 * 1e6).rounded() / 1e6 } == [-0.4, 0.4])
    }
}
