// Model files: a round trip, an independent reader of the safetensors layout (8-byte length,
// JSON header, offsets into little-endian F32 data), and every rejection message.
@testable import ConvdNet
import ConvdCore
import ConvdTestSupport
import Foundation
import Testing

/// conv 4×3×3 → batchnorm → relu → maxpool → dropout → dense 3 on 1×6×6 (shared by the model file tests).
func smallModel(seed: UInt64 = 4) throws -> Model {
    let specs: [LayerSpec] = [
        .conv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: true),
        .batchnorm(momentum: 0.1, epsilon: 1e-5), .relu, .maxpool(size: 2, stride: 2),
        .dropout(rate: 0.25), .dense(units: 3),
    ]
    let network = try Network(input: SampleShape(channels: 1, height: 6, width: 6), specs: specs, seed: seed)
    // Non-default buffers, so the round trip shows they are stored.
    for b in network.buffers { b.value = b.value.indices.map { Float($0) + 0.5 } }
    return Model(network: network, input: InputSpec(width: 6, height: 6, channels: 1, mean: 0.25, std: 0.5),
                 labels: ["a", "b", "c"], provenance: ["dataset": "synthetic", "epochs": "1"])
}

private func decodeError(_ bytes: [UInt8]) -> String? {
    do {
        _ = try ModelFile.decode(bytes, path: "m.safetensors")
        return nil
    } catch {
        return error.description
    }
}

@Suite("model files")
struct ModelFileTests {
    @Test("round trip: architecture, weights, buffers, input spec, labels and provenance survive")
    func roundTrip() throws {
        let model = try smallModel()
        let decoded = try ModelFile.decode(ModelFile.encode(model), path: "m.safetensors")
        #expect(decoded.network.specs == model.network.specs)
        #expect(decoded.network.parameters.map(\.value) == model.network.parameters.map(\.value))
        #expect(decoded.network.buffers.map(\.value) == model.network.buffers.map(\.value))
        #expect(decoded.input == model.input)
        #expect(decoded.labels == ["a", "b", "c"])
        #expect(decoded.provenance == ["dataset": "synthetic", "epochs": "1"])
        var g = SeededGenerator(seed: 2)
        let image = randomTensor(channels: 1, height: 6, width: 6, using: &g)
        #expect(decoded.classify([image]) == model.classify([image]))
    }

    @Test("an independent reader finds the safetensors layout: aligned JSON header, contiguous F32 tensors")
    func independentReader() throws {
        let model = try smallModel()
        let bytes = ModelFile.encode(model)
        let (length, json) = try SafetensorsSurgery.header(of: bytes)
        #expect(length % 8 == 0)
        let metadata = try #require(json["__metadata__"] as? [String: String])
        #expect(metadata["format"] == "convd-model" && metadata["format_version"] == "1")
        #expect(metadata["labels"] == "[\"a\",\"b\",\"c\"]")
        let tensors = json.filter { $0.key != "__metadata__" }
        #expect(Set(tensors.keys) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.1.running_mean", "layers.1.running_var", "layers.6.weight",
                                      "layers.6.bias"])
        var ranges: [(Int, Int)] = []
        for (name, value) in tensors {
            let entry = try #require(value as? [String: Any])
            #expect(entry["dtype"] as? String == "F32")
            let shape = try #require(entry["shape"] as? [Int])
            let offsets = try #require(entry["data_offsets"] as? [Int])
            #expect(offsets[1] - offsets[0] == 4 * shape.reduce(1, *), "\(name)")
            ranges.append((offsets[0], offsets[1]))
        }
        ranges.sort { $0.0 < $1.0 }
        #expect(ranges.first?.0 == 0)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.1 == $1.0 }, "contiguous")
        #expect(8 + length + (ranges.last?.1 ?? 0) == bytes.count)
        // The conv weight's first value, read by hand as little-endian F32.
        let weight = try #require(tensors["layers.0.weight"] as? [String: Any])
        let start = 8 + length + (try #require(weight["data_offsets"] as? [Int]))[0]
        let bits = UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16
            | UInt32(bytes[start + 3]) << 24
        #expect(Float(bitPattern: bits) == model.network.parameters[0].value[0])
    }

    @Test("rejections name the file, what was expected and what to do")
    func rejections() throws {
        let good = ModelFile.encode(try smallModel())
        let hint = "; re-create it with `convd train` or copy the original file again"
        #expect(decodeError(Array(good.prefix(5)))
                == "m.safetensors: truncated: 5 bytes, but a safetensors file starts with an 8-byte header length" + hint)
        #expect(decodeError(Array(good.prefix(100)))?.hasPrefix("m.safetensors: truncated: the header needs ") == true)
        var huge = good
        huge[6] = 0x7f
        #expect(decodeError(huge) == "m.safetensors: header length \(Int(0x7f) << 48 | Int(good[5]) << 40 | Int(good[4]) << 32 | Int(good[3]) << 24 | Int(good[2]) << 16 | Int(good[1]) << 8 | Int(good[0])) is outside 2...16777216 bytes (not a safetensors file?)" + hint)
        let wrongDtype = try SafetensorsSurgery.editingHeader(good) { json in
            var entry = json["layers.0.weight"] as? [String: Any] ?? [:]
            entry["dtype"] = "F16"
            json["layers.0.weight"] = entry
        }
        #expect(decodeError(wrongDtype) == "m.safetensors: tensor \"layers.0.weight\" has dtype F16, expected F32" + hint)
        let wrongShape = try SafetensorsSurgery.editingHeader(good) { json in
            var entry = json["layers.6.weight"] as? [String: Any] ?? [:]
            entry["shape"] = [3, 35]
            json["layers.6.weight"] = entry
        }
        #expect(decodeError(wrongShape)
                == "m.safetensors: tensor \"layers.6.weight\" has shape [3, 35], expected [3, 36]" + hint)
        let foreign = try SafetensorsSurgery.editingHeader(good) { json in json["__metadata__"] = ["format": "pt"] }
        #expect(decodeError(foreign)
                == "m.safetensors: not a convd model: expected __metadata__ \"format\": \"convd-model\", found \"pt\"" + hint)
        let noMetadata = try SafetensorsSurgery.editingHeader(good) { json in json["__metadata__"] = nil }
        #expect(decodeError(noMetadata)?.contains("found none") == true)
        #expect(decodeError(Array(good.dropLast(8)))?.contains("truncated: the architecture stores ") == true)
        #expect(decodeError([UInt8](repeating: 0x41, count: 64))?.contains("header length") == true)
    }

    @Test("parameter counts: presets, and conv-semantics.md §5.11")
    func parameterCounts() throws {
        #expect(try Network(input: Preset.input, specs: Preset.lenet5.specs).parameterCount == 61_706)
        #expect(try Network(input: Preset.input, specs: Preset.fmnistSmall.specs).parameterCount == 20_490)
        let conv = try Network(input: SampleShape(channels: 3, height: 8, width: 8), specs: [
            .conv2d(filters: 5, size: 3, stride: 1, padding: 0, dilation: 1, bias: true), .globalAvgpool])
        #expect(conv.layers[0].outputShape == SampleShape(channels: 5, height: 6, width: 6))
        #expect(conv.parameters.map { $0.value.count } == [135, 5])
        let dense = try Network(input: SampleShape(channels: 192, height: 1, width: 1), specs: [.dense(units: 180)])
        #expect(dense.parameters[0].value.count == 34_560)
    }

    @Test("a bad architecture names the layer")
    func badArchitecture() {
        #expect(throws: ArchitectureError(layer: 3, message: "maxpool 2×2: input 1×1×1 shrinks to 1×0×0")) {
            try Network(input: SampleShape(channels: 1, height: 2, width: 2), specs: [
                .maxpool(size: 2, stride: 2), .flatten, .maxpool(size: 2, stride: 2), .dense(units: 2)])
        }
        #expect(throws: ArchitectureError(layer: 1, message: "conv2d 0×3×3: filters must be at least 1, got 0")) {
            try Network(input: Preset.input, specs: [.conv2d(filters: 0, size: 3, stride: 1, padding: 0, dilation: 1, bias: true)])
        }
        #expect(throws: ArchitectureError.self) {
            try Network(input: Preset.input, specs: [.conv2d(filters: 2, size: 3, stride: 1, padding: 0, dilation: 1, bias: true)])
        }
        #expect(throws: ArchitectureError(layer: 1, message: "unknown layer type \"conv3d\" (known: add, avgpool, batchnorm, "
            + "concat, conv2d, dense, dropout, flatten, global_avgpool, global_maxpool, hard_swish, leaky_relu, maxpool, "
            + "relu, relu6, sigmoid, tanh)")) {
            try LayerSpec(fields: ["type": .string("conv3d")], layer: 1)
        }
        #expect(throws: ArchitectureError(layer: 2, message: "dense: unknown key \"unit\" (keys: units, name, inputs)")) {
            try LayerSpec(fields: ["type": .string("dense"), "unit": .number(3)], layer: 2)
        }
    }
}
