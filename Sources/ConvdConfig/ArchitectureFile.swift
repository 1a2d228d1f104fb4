// ArchitectureFile: a network architecture in TOML (samples/models/*.toml) — an `[input]`
// table and one `[[layer]]` table per layer, with the keys of LayerSpec+Fields.swift:
//
//     name = "fashion"                       # optional
//     [input]
//     width = 28
//     height = 28
//     channels = 1                           # 1 (gray) or 3 (RGB)
//     [[layer]]
//     type = "conv2d"
//     filters = 32
//     size = 3
//     padding = 1
//
// Shapes are inferred layer to layer. A layer may have a `name`, and `inputs = ["a", "b"]`
// naming layers above it (or "input") makes the architecture a graph (LayerNode.swift):
//
//     [[layer]]
//     type = "add"                           # a residual connection
//     inputs = ["block1_in", "block1_bn2"]
//
// `type = "residual_block"` (filters, stride = 1, repeat = 1) stands for ResNet's basic block,
// expanded into its layers as the file is read (ResidualBlock.swift).
//
// Syntax errors give line and column; unknown keys and layer types are errors naming the layer.
import ConvdCore
import ConvdNet
import TOMLKit

/// A parsed architecture.
public struct Architecture: Sendable {
    /// Its name (the file's `name`, else the file name).
    public let name: String
    /// Per-sample input shape.
    public let input: SampleShape
    /// The layers, each with its name and inputs.
    public let layers: [LayerNode]

    /// An architecture.
    public init(name: String, input: SampleShape, layers: [LayerNode]) {
        self.name = name
        self.input = input
        self.layers = layers
    }

    /// A built-in preset by name, or nil.
    public static func preset(_ name: String) -> Architecture? {
        Preset(rawValue: name).map { Architecture(name: name, input: Preset.input, layers: $0.specs.map { LayerNode($0) }) }
    }
}

/// Why an architecture file cannot be used: `<path>: <reason>`.
public struct ArchitectureFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Reads architecture files.
public enum ArchitectureFile {
    /// Parses TOML text; `path` names the file in errors and gives the default name.
    public static func parse(_ text: String, path: String) throws(ArchitectureFileError) -> Architecture {
        func fail(_ reason: String) -> ArchitectureFileError { ArchitectureFileError(path: path, reason: reason) }
        let table: TOMLTable
        do {
            table = try TOMLText.table(text)
        } catch {
            throw fail(error.description)
        }
        for key in table.keys where !["name", "input", "layer"].contains(key) {
            throw fail("unknown key \"\(key)\" (keys: name, input, layer)")
        }
        guard let inputTable = table["input"]?.table else { throw fail("missing [input] table (width, height, channels)") }
        for key in inputTable.keys where !["width", "height", "channels"].contains(key) {
            throw fail("input: unknown key \"\(key)\" (keys: width, height, channels)")
        }
        guard let width = inputTable["width"]?.int, let height = inputTable["height"]?.int, width > 0, height > 0 else {
            throw fail("input: width and height must be positive whole numbers")
        }
        let channels = inputTable["channels"]?.int ?? 1
        guard channels == 1 || channels == 3 else { throw fail("input: channels must be 1 or 3") }
        guard let layerArray = table["layer"]?.array, !layerArray.isEmpty else {
            throw fail("no [[layer]] tables")
        }
        var layers: [LayerNode] = []
        // The table each layer came from (a residual_block gives several layers).
        var tableOf: [Int] = []
        var blocks = 0
        let input = SampleShape(channels: channels, height: height, width: width)
        // An error about layer N of the expansion names its table in the file.
        func located(_ error: ArchitectureError) -> String {
            guard let n = error.layer, n >= 1, n <= tableOf.count else { return error.description }
            let t = tableOf[n - 1]
            let inBlock = tableOf.filter { $0 == t }.count > 1
            return "layer \(t)" + (inBlock ? " (\(ResidualBlock.type), its layer \(n - tableOf.firstIndex(of: t)!))" : "")
                + ": \(error.message)"
        }
        for (i, value) in layerArray.enumerated() {
            guard let layerTable = value.table else { throw fail("layer \(i + 1): expected a [[layer]] table") }
            var fields: [String: FieldValue] = [:]
            for key in layerTable.keys {
                guard let v = layerTable[key] else { continue }
                switch v.type {
                case .string: fields[key] = .string(v.string ?? "")
                case .int: fields[key] = .number(Double(v.int ?? 0))
                case .double: fields[key] = .number(v.double ?? 0)
                case .bool: fields[key] = .bool(v.bool ?? false)
                case .array:
                    let names = (v.array ?? []).compactMap(\.string)
                    guard names.count == v.array?.count else {
                        throw fail("layer \(i + 1): \(key) must be a list of layer names")
                    }
                    fields[key] = .strings(names)
                default: throw fail("layer \(i + 1): \(key) must be a number, string or boolean")
                }
            }
            do {
                if fields["type"] == .string(ResidualBlock.type) {
                    blocks += 1
                    try ResidualBlock.expand(fields, into: &layers, input: input, layer: i + 1, ordinal: blocks)
                } else {
                    layers.append(try LayerNode(fields: fields, layer: i + 1))
                }
            } catch {
                throw fail(error.layer == i + 1 ? error.description : located(error))
            }
            while tableOf.count < layers.count { tableOf.append(i + 1) }
        }
        do {
            // Shapes and sizes checked within NetworkLimits, without allocating the weights.
            _ = try NetworkPlan(input: input, nodes: layers)
        } catch {
            throw fail(located(error))
        }
        let stem = path.split(separator: "/").last.map { String($0.split(separator: ".").first ?? $0) } ?? path
        return Architecture(name: table["name"]?.string ?? stem, input: input, layers: layers)
    }
}
