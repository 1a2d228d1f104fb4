// OnnxModelFile: an ONNX classifier from its file and the `.toml` beside it (`model.onnx.toml`,
// or one given explicitly): the input size, channels and layout (from the graph's declared
// input where it is fixed, from the .toml where it is symbolic), the preprocessing and the
// labels (the .toml's list or labels file, else the model's `labels` metadata, else numbers).
// Every problem of the .toml is reported at once; the graph's are ImportReport's.
import ConvdCore
import ConvdNet
import ConvdOnnx
import ConvdSystem
import Foundation
import TOMLKit

/// What the `.toml` of an ONNX model says.
struct OnnxModelSettings {
    var width: Int?
    var height: Int?
    var channels: Int?
    var layout: Preprocessing.Layout?
    var bgr = false
    var scale: Float = 1.0 / 255
    var mean: [Float] = [0]
    var std: [Float] = [1]
    var resize: Preprocessing.ResizeRule = .stretch
    var interpolation: Resize.Method = .area
    var labels: [String]?
    var labelsFile: String?
    var probabilities: Bool?
}

public enum OnnxModelFile {
    /// Whether `path` names an ONNX model (by its extension).
    public static func isOnnx(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }

    /// The `.toml` read for `model` when none is given: `model.onnx.toml`, if it exists.
    public static func defaultConfig(for model: String) -> String? {
        FileIO.isRegularFile(model + ".toml") ? model + ".toml" : nil
    }

    /// The classifier in `path`, prepared as `config` (or the default `.toml`) says.
    public static func load(_ path: String, config: String? = nil) throws -> OnnxClassifier {
        let configPath = config ?? defaultConfig(for: path)
        var settings = OnnxModelSettings()
        if let configPath {
            let bytes = try FileIO.readAll(configPath, limit: 1 << 20)
            settings = try parse(String(decoding: bytes, as: UTF8.self), file: configPath)
        }
        let file = try OnnxFile.read(path)
        let declared = file.declaredInputs
        let preprocessing: Preprocessing
        do {
            guard declared.count == 1, let input = declared.first else {
                throw OnnxError(path: path, reason: "the model takes \(declared.count) inputs; convd feeds one image")
            }
            preprocessing = try inputGeometry(input, settings: settings, model: path, config: configPath)
        } catch {
            // Without an input size the graph cannot be compiled: report the missing
            // operators with the reason, so nothing known is held back.
            guard let missing = try file.missingOperators() else { throw error }
            let reason = (error as? OnnxError)?.reason ?? "\(error)"
            throw OnnxError(path: path, reason: missing.reason + "\n  and: " + reason)
        }
        let graph = try file.compile(shapes: [declared[0].name: preprocessing.inputShape])
        guard let output = graph.outputs.first, output.type == .float else {
            throw OnnxError(path: path, reason: "the model's first output is not a float tensor of class scores")
        }
        let classes = output.shape.reduce(1, *)
        var labels: [String], source: String
        if let list = settings.labels {
            (labels, source) = (list, configPath ?? "")
        } else if let file = settings.labelsFile {
            let resolved = PathText.absolute(file, base: PathText.folder(of: PathText.absolute(configPath ?? path,
                                                                                               base: PathText.currentDirectory())))
            let text = String(decoding: try FileIO.readAll(resolved, limit: 16 << 20), as: UTF8.self)
            (labels, source) = (text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }.reversed().drop(while: \.isEmpty).reversed(), resolved)
        } else if let list = metadataLabels(graph.metadata) {
            (labels, source) = (list, "the model's metadata")
        } else {
            (labels, source) = ((0..<classes).map(String.init), "none (class numbers)")
        }
        guard labels.count == classes else {
            throw OnnxError(path: path, reason: "the model scores \(classes) classes (output \(output.shape.shapeText)) "
                            + "but \(source) gives \(labels.count) labels")
        }
        // Probabilities when the last step that computes anything is a Softmax.
        let moves: Set = ["Identity", "Flatten", "Squeeze", "Unsqueeze", "Reshape", "Dropout"]
        let probabilities = settings.probabilities ?? (graph.rows.last { !moves.contains($0.op) }?.op == "Softmax")
        return OnnxClassifier(graph: graph, preprocessing: preprocessing, labels: labels,
                              outputsProbabilities: probabilities, labelSource: source)
    }

    /// Labels from metadata_props `labels` (a JSON array, or one per line, or comma-separated).
    static func metadataLabels(_ metadata: [String: String]) -> [String]? {
        guard let text = metadata["labels"] ?? metadata["classes"] ?? metadata["class_names"] else { return nil }
        if text.hasPrefix("["), let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] {
            return array
        }
        let separator: Character = text.contains("\n") ? "\n" : ","
        return text.split(separator: separator).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Width, height, channels and layout from the declared input and the settings.
    static func inputGeometry(_ input: (name: String, shape: [Int?]?), settings: OnnxModelSettings, model: String,
                              config: String?) throws -> Preprocessing {
        let dims = input.shape ?? [nil, nil, nil, nil]
        let text = dims.map { $0.map(String.init) ?? "?" }.joined(separator: "×")
        guard dims.count == 4 else {
            throw OnnxError(path: model, reason: "input \"\(input.name)\" is \(text); convd feeds images as 4-D tensors")
        }
        let where_ = config ?? model + ".toml"
        // NHWC when the .toml says so, or when the last axis alone looks like channels.
        let layout = settings.layout ?? ((dims[3] == 1 || dims[3] == 3) && !(dims[1] == 1 || dims[1] == 3) ? .nhwc : .nchw)
        let (c, h, w) = layout == .nchw ? (dims[1], dims[2], dims[3]) : (dims[3], dims[1], dims[2])
        var problems: [String] = []
        func pick(_ declared: Int?, _ given: Int?, _ key: String) -> Int {
            switch (declared, given) {
            case let (d?, g?) where d != g:
                problems.append("the model's input \"\(input.name)\" is \(text) but \(where_) sets \(key) = \(g)")
                return d
            case let (d?, _): return d
            case let (nil, g?): return g
            case (nil, nil):
                problems.append("input \"\(input.name)\" has a dynamic \(key) (\(text)); set \(key) under [input] in \(where_)")
                return 0
            }
        }
        let channels = pick(c, settings.channels, "channels"), height = pick(h, settings.height, "height")
        let width = pick(w, settings.width, "width")
        if let batch = dims[0], batch != 1 {
            problems.append("input \"\(input.name)\" is \(text): a batch of \(batch); convd feeds one image at a time "
                            + "(export with batch 1 or a dynamic batch)")
        }
        if problems.isEmpty && (width < 1 || height < 1) {
            problems.append("input \"\(input.name)\" is \(text): an image is at least 1×1")
        }
        if problems.isEmpty && !(channels == 1 || channels == 3) {
            problems.append("input \"\(input.name)\" has \(channels) channels; images have 1 (gray) or 3 (colour)")
        }
        if problems.isEmpty && (width > 16384 || height > 16384) {
            problems.append("input \(width)×\(height) is larger than 16384 pixels a side")
        }
        guard problems.isEmpty else { throw OnnxError(path: model, reason: problems.joined(separator: "; ")) }
        for (key, values) in [("mean", settings.mean), ("std", settings.std)] where values.count != 1 && values.count != channels {
            throw OnnxError(path: where_, reason: "\(key) has \(values.count) values for a \(channels)-channel input")
        }
        var p = Preprocessing(width: width, height: height, channels: channels)
        p.layout = layout
        p.bgr = settings.bgr
        p.scale = settings.scale
        p.mean = settings.mean
        p.std = settings.std
        p.resize = settings.resize
        p.interpolation = settings.interpolation
        return p
    }

    /// Parses the `.toml` text of `file`.
    static func parse(_ text: String, file: String) throws(ConfigError) -> OnnxModelSettings {
        var issues: [ConfigIssue] = []
        let root = try ConfigError.root(text, file: file)
        var s = OnnxModelSettings()
        var top = TableReader(root, path: "")
        s.labels = top.strings("labels", &issues)
        s.labelsFile = top.string("labels_file", &issues)
        if s.labels != nil && s.labelsFile != nil { issues.append(ConfigIssue("labels_file", "give labels or labels_file, not both")) }
        if let output = top.choice("output", ["logits", "probabilities"], &issues) { s.probabilities = output == "probabilities" }
        if let table = top.subtable("input", &issues) {
            var r = TableReader(table, path: "input")
            s.width = r.int("width", in: 1...16384, &issues)
            s.height = r.int("height", in: 1...16384, &issues)
            s.channels = r.int("channels", in: 1...3, &issues)
            if s.channels == 2 { issues.append(ConfigIssue("input.channels", "must be 1 or 3")) }
            s.layout = r.choice("layout", Preprocessing.Layout.allCases.map(\.rawValue), &issues).flatMap(Preprocessing.Layout.init)
            s.bgr = r.choice("channel_order", ["rgb", "bgr"], &issues) == "bgr"
            if let scale = r.number("scale", &issues) {
                if scale > 0 { s.scale = Float(scale) } else { issues.append(ConfigIssue("input.scale", "must be above 0")) }
            }
            s.mean = r.numbers("mean", &issues)?.map(Float.init) ?? [0]
            if let std = r.numbers("std", &issues) {
                if std.allSatisfy({ $0 > 0 }) { s.std = std.map(Float.init) } else {
                    issues.append(ConfigIssue("input.std", "every value must be above 0"))
                }
            }
            let side = r.int("shorter_side", in: 1...16384, &issues)
            switch r.choice("resize", ["stretch", "shorter_side"], &issues) {
            case "shorter_side"?:
                if let side { s.resize = .shorterSide(side) } else {
                    issues.append(ConfigIssue("input.shorter_side", "missing: resize = \"shorter_side\" needs it"))
                }
            default:
                if side != nil { issues.append(ConfigIssue("input.shorter_side", "only used with resize = \"shorter_side\"")) }
            }
            if let method = r.choice("interpolation", Resize.Method.allCases.map(\.rawValue), &issues) {
                s.interpolation = Resize.Method(rawValue: method) ?? .area
            }
            r.reportUnknown(&issues)
        }
        top.reportUnknown(&issues)
        guard issues.isEmpty else { throw ConfigError(file: file, issues: issues) }
        return s
    }
}

extension OnnxModelFile {
    /// The ONNX model at `path` as a convd model to train further: its graph as convd layers
    /// (OnnxTrainable.swift) with its weights, labels, and its preprocessing as an InputSpec.
    /// An input convd's training cannot prepare the same way (BGR order, NHWC, shorter-side
    /// resizing) is refused with what to change.
    public static func trainableModel(_ path: String, config: String? = nil) throws -> Model {
        let classifier = try load(path, config: config)
        let p = classifier.preprocessing
        var refused: [String] = []
        if p.bgr { refused.append("channel order bgr") }
        if p.layout != .nchw { refused.append("layout \(p.layout.rawValue)") }
        if p.resize != .stretch { refused.append("resizing by the shorter side") }
        guard refused.isEmpty else {
            throw OnnxError(path: path, reason: "convd trains on RGB NCHW inputs stretched to size; this model's "
                            + "preprocessing has " + refused.joined(separator: ", "))
        }
        let graph = try OnnxFile.read(path).trainableGraph(inputShape: p.inputShape)
        let network: Network
        do {
            network = try graph.network()
        } catch {
            throw OnnxError(path: path, reason: "cannot train this graph as convd layers: \(error)")
        }
        // (u·scale·255 − m)/s on unit samples u is (u − m/(scale·255)) / (s/(scale·255)).
        let unit = p.scale * 255
        let means = (0..<p.channels).map { c in (p.mean.count == 1 ? p.mean[0] : p.mean[c]) / unit }
        let stds = (0..<p.channels).map { c in (p.std.count == 1 ? p.std[0] : p.std[c]) / unit }
        var input = InputSpec(width: p.width, height: p.height, channels: p.channels, mean: means[0], std: stds[0])
        if Set(means).count > 1 || Set(stds).count > 1 {
            input.channelMean = means
            input.channelStd = stds
        }
        return Model(network: network, input: input, labels: classifier.labels,
                     provenance: ["onnx": path, "producer": classifier.graph.provenance])
    }
}
