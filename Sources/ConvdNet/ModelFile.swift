// ModelFile: convd models as safetensors files — an 8-byte little-endian header length, a
// JSON header, then the raw little-endian F32 tensors. Tensors are named
// `layers.<i>.weight`, `.bias`, `.running_mean`, `.running_var` (i = the layer's index in
// `convd inspect`). `__metadata__` (string values only, as safetensors requires) holds
// `format` = "convd-model", `format_version`, `architecture` (JSON: the layer tables, with
// `name` and `inputs` where a layer has them),
// `input` (JSON), `labels` (JSON) and `provenance` (JSON). Python reads the tensors with
// `safetensors.numpy.load_file`.
//
// Every size in the file is checked without an overflow trap (security audit #14): the
// architecture against NetworkLimits (NetworkPlan) before any weight is allocated, the data
// against what that plan needs, and each tensor's data_offsets as an ordered range inside the
// data whose length is 4 × its shape's product. Values must be finite.
import ConvdCore
import Foundation

/// Why a model file cannot be used: `<path>: <reason> — <what to do>`.
public struct ModelFileError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public let path: String
    /// What is wrong, with what was expected.
    public let reason: String

    /// An error about `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// One line naming the file, the problem and the remedy.
    public var description: String {
        "\(path): \(reason); re-create it with `convd train` or copy the original file again"
    }
}

/// Encodes and decodes convd models in the safetensors format.
public enum ModelFile {
    /// The `format` value in `__metadata__`.
    public static let format = "convd-model"
    /// The current `format_version`.
    public static let version = "1"
    /// Largest accepted JSON header.
    public static let maxHeaderBytes = 16 << 20

    /// The bytes of `model` as a safetensors file.
    public static func encode(_ model: Model) -> [UInt8] {
        let tensors = namedTensors(model.network)
        var header: [String: Any] = [:]
        var offset = 0
        for t in tensors {
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.values.count]]
            offset += 4 * t.values.count
        }
        header["__metadata__"] = [
            "format": format,
            "format_version": version,
            "architecture": json(model.network.nodes.map { node in node.fields.mapValues(jsonValue) }),
            "input": json(["width": model.input.width, "height": model.input.height, "channels": model.input.channels,
                           "mean": model.input.channelMean.isEmpty ? Double(model.input.mean) as Any
                               : model.input.channelMean.map(Double.init),
                           "std": model.input.channelStd.isEmpty ? Double(model.input.std) as Any
                               : model.input.channelStd.map(Double.init),
                           "scale": "unit",
                           "resize": "area (shrink) / bilinear (enlarge)"] as [String: Any]),
            "labels": json(model.labels),
            "provenance": json(model.provenance),
        ]
        var headerBytes = Array((try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + headerBytes.count + offset)
        let length = UInt64(headerBytes.count)
        for i in 0..<8 { bytes.append(UInt8((length >> (8 * UInt64(i))) & 0xff)) }
        bytes += headerBytes
        for t in tensors {
            let little = t.values.map { Float(bitPattern: $0.bitPattern.littleEndian) }
            little.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Parses a model file; `path` names it in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(ModelFileError) -> Model {
        func fail(_ reason: String) -> ModelFileError { ModelFileError(path: path, reason: reason) }
        guard bytes.count >= 8 else {
            throw fail("truncated: \(bytes.count) bytes, but a safetensors file starts with an 8-byte header length")
        }
        var length = 0
        for i in 0..<8 { length |= Int(bytes[i]) << (8 * i) }
        guard length >= 2 && length <= maxHeaderBytes else {
            throw fail("header length \(length) is outside 2...\(maxHeaderBytes) bytes (not a safetensors file?)")
        }
        guard 8 + length <= bytes.count else {
            throw fail("truncated: the header needs \(8 + length) bytes, the file has \(bytes.count)")
        }
        guard let header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)]))) as? [String: Any] else {
            throw fail("the header is not a JSON object (not a safetensors file?)")
        }
        let metadata = header["__metadata__"] as? [String: String] ?? [:]
        guard metadata["format"] == format else {
            throw fail("not a convd model: expected __metadata__ \"format\": \"\(format)\", found "
                       + (metadata["format"].map { "\"\($0)\"" } ?? "none"))
        }
        guard metadata["format_version"] == version else {
            throw fail("format_version \(metadata["format_version"] ?? "missing") is not supported (expected \(version))")
        }
        let input = try decodeInput(metadata["input"], fail: fail)
        guard let labels = parse(metadata["labels"]) as? [String], !labels.isEmpty else {
            throw fail("__metadata__ \"labels\" must be a JSON array of class names")
        }
        guard let layerTables = parse(metadata["architecture"]) as? [[String: Any]] else {
            throw fail("__metadata__ \"architecture\" must be a JSON array of layer tables")
        }
        var nodes: [LayerNode] = []
        let plan: NetworkPlan
        do {
            for (i, table) in layerTables.enumerated() {
                nodes.append(try LayerNode(fields: table.compactMapValues(fieldValue), layer: i + 1))
            }
            plan = try NetworkPlan(input: input.shape, nodes: nodes)
        } catch {
            throw fail("bad architecture: \(error)")
        }
        let outputs = plan.shapes.last?.channels ?? 0
        guard outputs == labels.count else {
            throw fail("the network has \(outputs) outputs but there are \(labels.count) labels")
        }
        let dataStart = 8 + length
        let dataBytes = bytes.count - dataStart
        guard plan.storedCount <= dataBytes / 4 else {
            throw fail("truncated: the architecture stores \(plan.storedCount) F32 values, but only \(dataBytes) bytes "
                       + "follow the header")
        }
        let network: Network
        do {
            network = try Network(input: input.shape, nodes: nodes)
        } catch {
            throw fail("bad architecture: \(error)")
        }
        let expected = namedTensors(network)
        let names = Set(expected.map(\.name))
        if let extra = header.keys.filter({ $0 != "__metadata__" && !names.contains($0) }).sorted().first {
            throw fail("unexpected tensor \"\(extra)\" for this architecture")
        }
        for t in expected {
            guard let entry = header[t.name] as? [String: Any] else { throw fail("missing tensor \"\(t.name)\"") }
            guard let dtype = entry["dtype"] as? String, dtype == "F32" else {
                throw fail("tensor \"\(t.name)\" has dtype \((entry["dtype"] as? String) ?? "?"), expected F32")
            }
            let shape = integers(entry["shape"])
            guard shape == t.shape.map(Optional.some) else {
                throw fail("tensor \"\(t.name)\" has shape \(shown(shape)), expected \(t.shape)")
            }
            // Compared with the data length, never added to the data's start: offsets near
            // Int.max must not overflow.
            let offsets = integers(entry["data_offsets"])
            guard offsets.count == 2, let begin = offsets[0], let end = offsets[1], begin >= 0, begin <= end,
                  end <= dataBytes else {
                throw fail("tensor \"\(t.name)\" data_offsets \(shown(offsets)) are not an ordered range inside "
                           + "the \(dataBytes) bytes of tensor data (truncated?)")
            }
            guard let size = CheckedSize.product(t.shape + [4]), end - begin == size else {
                throw fail("tensor \"\(t.name)\" data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but F32 "
                           + "\(t.shape) needs \(4 * t.values.count)")
            }
            var values = [Float](repeating: 0, count: t.values.count)
            for i in values.indices {
                let o = dataStart + begin + 4 * i
                values[i] = Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8
                                  | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
            // A trained model holds finite numbers; NaN or ±inf would only give NaN scores.
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw fail("tensor \"\(t.name)\" value \(bad) is \(values[bad]), not a finite number")
            }
            t.assign(values)
        }
        let provenance = (parse(metadata["provenance"]) as? [String: Any])?.mapValues { "\($0)" } ?? [:]
        return Model(network: network, input: input, labels: labels, provenance: provenance)
    }

    /// A tensor of the file: its name, shape and values, and how to store values back.
    struct NamedTensor {
        let name: String
        let shape: [Int]
        let values: [Float]
        let assign: ([Float]) -> Void
    }

    static func namedTensors(_ network: Network) -> [NamedTensor] {
        network.layers.flatMap { layer in
            layer.parameters.map { p in NamedTensor(name: p.name, shape: p.shape, values: p.value) { p.value = $0 } }
                + layer.buffers.map { b in NamedTensor(name: b.name, shape: [b.value.count], values: b.value) { b.value = $0 } }
        }
    }

    /// A JSON array's elements as whole numbers (nil where one is not an Int: a fraction,
    /// a string, or a number beyond Int's range such as 1e30).
    private static func integers(_ value: Any?) -> [Int?] {
        (value as? [Any])?.map { $0 as? Int } ?? []
    }

    /// `[1, 2, ?]`.
    private static func shown(_ values: [Int?]) -> String {
        "[" + values.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    private static func decodeInput(_ text: String?, fail: (String) -> ModelFileError) throws(ModelFileError) -> InputSpec {
        guard let object = parse(text) as? [String: Any],
              let width = object["width"] as? Int, let height = object["height"] as? Int,
              let channels = object["channels"] as? Int, width > 0, height > 0,
              channels == 1 || channels == 3 else {
            throw fail("__metadata__ \"input\" must give width, height and channels (1 or 3)")
        }
        // One number, or one per channel (std positive and finite).
        func values(_ key: String, _ fallback: Float) throws(ModelFileError) -> [Float] {
            guard let value = object[key] else { return [fallback] }
            let list = (value as? [NSNumber] ?? (value as? NSNumber).map { [$0] })?.map(\.floatValue)
            guard let list, list.count == 1 || list.count == channels, list.allSatisfy(\.isFinite),
                  key == "mean" || list.allSatisfy({ $0 > 0 }) else {
                throw fail("__metadata__ \"input\" \(key) must be a number or one per channel"
                           + (key == "std" ? ", each above 0" : ""))
            }
            return list
        }
        let mean = try values("mean", 0), std = try values("std", 1)
        var spec = InputSpec(width: width, height: height, channels: channels, mean: mean[0], std: std[0])
        if mean.count > 1 || std.count > 1 {
            spec.channelMean = mean.count > 1 ? mean : [Float](repeating: mean[0], count: channels)
            spec.channelStd = std.count > 1 ? std : [Float](repeating: std[0], count: channels)
        }
        return spec
    }

    private static func json(_ object: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    private static func parse(_ text: String?) -> Any? {
        text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }

    private static func jsonValue(_ value: FieldValue) -> Any {
        switch value {
        case .number(let v): return v
        case .string(let s): return s
        case .bool(let b): return b
        case .strings(let list): return list
        }
    }

    private static func fieldValue(_ value: Any) -> FieldValue? {
        if let s = value as? String { return .string(s) }
        if let list = value as? [Any] {
            let names = list.compactMap { $0 as? String }
            // A list of anything else is a value of no kind, which every key refuses by name.
            return names.count == list.count ? .strings(names) : .number(.nan)
        }
        guard let n = value as? NSNumber else { return nil }
        // JSONSerialization gives true/false as boolean NSNumbers, whose type code is "c".
        return String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
    }
}
