// `convd inspect`: the layers of a model, architecture file or preset, with output shapes and
// parameter counts (like Keras' model.summary()).
import ArgumentParser
import ConvdConfig
import ConvdCore
import ConvdNet
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the layers, output shapes and parameter counts of a model or architecture.",
        discussion: "TARGET is a .safetensors model, an architecture .toml file or a preset (lenet5, fmnist-small)."
    )

    @Argument(help: "A model file, an architecture file or a preset name.")
    var target: String

    @Flag(help: "Print one JSON object with `input`, `layers` and `total_params`.")
    var json = false

    func run() throws {
        let network: Network
        var labels: [String] = []
        do {
            if target.hasSuffix(".safetensors") {
                let model = try ModelLoading.model(target)
                network = model.network
                labels = model.labels
            } else {
                let architecture = try ModelLoading.architecture(target)
                network = try Network(input: architecture.input, specs: architecture.layers)
            }
        } catch {
            printError("convd: \(error)")
            throw ExitCode.failure
        }
        let rows = network.layers.enumerated().map { i, layer in
            (i, layer.spec.kind, layer.spec.summary, layer.outputShape,
             layer.parameters.reduce(0) { $0 + $1.value.count })
        }
        if json {
            let object: [String: Any] = [
                "input": [network.inputShape.channels, network.inputShape.height, network.inputShape.width],
                "layers": rows.map { ["index": $0.0, "type": $0.1, "summary": $0.2,
                                      "output": [$0.3.channels, $0.3.height, $0.3.width], "params": $0.4] },
                "total_params": network.parameterCount,
                "labels": labels,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("input \(network.inputShape)")
        print(pad("#", 3) + "  " + pad("layer", 16) + pad("", 26) + pad("output", 12) + "params")
        for (i, kind, summary, shape, params) in rows {
            print(pad(String(i), 3) + "  " + pad(kind, 16) + pad(summary, 26) + pad(shape.description, 12)
                  + grouped(params))
        }
        print("total parameters: \(grouped(network.parameterCount))")
        if !labels.isEmpty { print("labels: \(labels.joined(separator: ", "))") }
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
