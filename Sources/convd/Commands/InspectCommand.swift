// `convd inspect`: the layers of a model, architecture file or preset, with output shapes and
// parameter counts (like Keras' model.summary()).
import ArgumentParser
import ConvdConfig
import ConvdCore
import ConvdNet
import ConvdOnnx
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the layers, output shapes and parameter counts of a model or architecture.",
        discussion: """
            TARGET is a .safetensors model, an architecture .toml file, a preset (lenet5, fmnist-small) or an \
            ONNX model (.onnx): then the graph as convd runs it (after constant folding and fusion) — node, \
            operator, output shape, parameters — with totals, the preprocessing and the labels. A model \
            convd cannot run gets the list of every unsupported operator and attribute instead.
            """
    )

    @Argument(help: "A model file, an architecture file or a preset name.")
    var target: String

    @Flag(help: "Print one JSON object with `input`, `layers` and `total_params`.")
    var json = false

    @Flag(name: .customLong("as-layers"),
          help: "For an ONNX model: the convd layers `convd train --from` makes of it, numbered and named as --freeze takes them.")
    var asLayers = false

    @Option(name: .long, help: ArgumentHelp("An ONNX model's preprocessing and labels (default: MODEL.toml "
                                            + "beside the model, if present).", valueName: "toml"))
    var modelConfig: String?

    func run() throws {
        if OnnxModelFile.isOnnx(target) && !asLayers {
            let onnx: OnnxClassifier
            do {
                onnx = try OnnxModelFile.load(target, config: modelConfig)
            } catch {
                printError("convd: \(error)")
                throw ExitCode.failure
            }
            try inspect(onnx)
            return
        }
        let network: Network
        var labels: [String] = []
        do {
            if OnnxModelFile.isOnnx(target) {
                let model = try ModelLoading.trainableModel(target, config: modelConfig)
                network = model.network
                labels = model.labels
            } else if target.hasSuffix(".safetensors") {
                let model = try ModelLoading.model(target)
                network = model.network
                labels = model.labels
            } else {
                let architecture = try ModelLoading.architecture(target)
                network = try Network(input: architecture.input, nodes: architecture.layers)
            }
        } catch {
            printError("convd: \(error)")
            throw ExitCode.failure
        }
        // A layer's name is its node's; a graph also shows what each layer reads.
        var names = [String?](repeating: nil, count: network.layers.count)
        for (node, i) in zip(network.nodes, network.nodeLayers) { names[i] = node.name }
        let rows = network.layers.enumerated().map { i, layer in
            (index: i, kind: layer.spec.kind, summary: layer.spec.summary, shape: layer.outputShape,
             params: layer.parameters.reduce(0) { $0 + $1.value.count }, name: names[i], inputs: network.layerInputs[i])
        }
        func reference(_ j: Int) -> String { j < 0 ? "input" : names[j] ?? "#\(j)" }
        if json {
            let object: [String: Any] = [
                "input": [network.inputShape.channels, network.inputShape.height, network.inputShape.width],
                "layers": rows.map { row -> [String: Any] in
                    var entry: [String: Any] = ["index": row.index, "type": row.kind, "summary": row.summary,
                                                "output": [row.shape.channels, row.shape.height, row.shape.width],
                                                "params": row.params, "inputs": row.inputs]
                    if let name = row.name { entry["name"] = name }
                    return entry
                },
                "total_params": network.parameterCount,
                "labels": labels,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("input \(network.inputShape)")
        let graph = !network.isChain
        let nameWidth = min(24, max(6, (names.compactMap { $0?.count }.max() ?? 0) + 2))
        print(pad("#", 3) + "  " + (graph ? pad("name", nameWidth) : "") + pad("layer", 16) + pad("", graph ? 34 : 26)
              + pad("output", 12) + pad("params", graph ? 10 : 0) + (graph ? "inputs" : ""))
        for row in rows {
            let inputs = row.inputs == [row.index - 1] ? "" : row.inputs.map(reference).joined(separator: ", ")
            print(pad(String(row.index), 3) + "  " + (graph ? pad(row.name ?? "", nameWidth) : "") + pad(row.kind, 16)
                  + pad(row.summary, graph ? 34 : 26) + pad(row.shape.description, 12)
                  + (graph ? pad(grouped(row.params), 10) + inputs : grouped(row.params)))
        }
        print("total parameters: \(grouped(network.parameterCount))")
        if !labels.isEmpty { print("labels: \(labels.joined(separator: ", "))") }
    }

    private func inspect(_ onnx: OnnxClassifier) throws {
        let g = onnx.graph
        if json {
            let object: [String: Any] = [
                "input": onnx.preprocessing.inputShape,
                "producer": g.provenance,
                "nodes": g.rows.map { ["node": $0.node, "op": $0.op, "output": $0.outputShape, "params": $0.parameters,
                                       "fused": $0.fused] },
                "total_params": g.parameterCount,
                "preprocessing": onnx.preprocessing.summary,
                "labels": onnx.labels,
                "outputs_probabilities": onnx.outputsProbabilities,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("\(target): \(g.provenance); \(g.nodeCount) nodes in the file, \(g.rows.count) steps after folding and fusion")
        let inputs = g.inputs.map { "\($0.name) \($0.shape.shapeText)" }.joined(separator: ", ")
        print("input \(inputs)")
        let width = min(48, max(8, (g.rows.map(\.node.count).max() ?? 0) + 2))
        print(pad("#", 4) + pad("node", width) + pad("operator", 20) + pad("output", 18) + "params")
        for (i, row) in g.rows.enumerated() {
            let node = row.node.count > width - 2 ? "…" + row.node.suffix(width - 3) : row.node
            print(pad(String(i), 4) + pad(node, width) + pad(row.op + (row.fused.isEmpty ? "" : "+" + row.fused), 20)
                  + pad(row.outputShape.shapeText, 18) + grouped(row.parameters))
        }
        print("total parameters: \(grouped(g.parameterCount)); peak activations \(grouped(g.peakBytes / 1024)) KiB")
        print("output \(g.outputs.map { "\($0.name) \($0.shape.shapeText)" }.joined(separator: ", "))"
              + (onnx.outputsProbabilities ? " (probabilities)" : " (scores; softmax applied)"))
        print("preprocessing: \(onnx.preprocessing.summary)")
        let shown = onnx.labels.prefix(20).joined(separator: ", ") + (onnx.labels.count > 20 ? ", ..." : "")
        print("labels (\(onnx.labels.count), from \(onnx.labelSource)): \(shown)")
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(1, width - s.count))
    }
}

/// 61706 → "61,706".
func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(d)
    }
    return out
}
