// Hostile model files (security audit #14a-c): data_offsets near Int.max, out of order, or
// not matching the shape, offsets that are not whole numbers, an absurd architecture or input
// in the metadata, and a file too short for its architecture: each is one error naming the
// file and the reason, never a trap.
@testable import ConvdNet
import ConvdTestSupport
import Testing

private func decodeError(_ bytes: [UInt8]) -> String? {
    do {
        _ = try ModelFile.decode(bytes, path: "m.safetensors")
        return nil
    } catch {
        return error.description
    }
}

private let hint = "; re-create it with `convd train` or copy the original file again"

/// `good` with `tensor`'s data_offsets replaced.
private func withOffsets(_ good: [UInt8], _ offsets: [Any], tensor: String = "layers.0.bias") throws -> [UInt8] {
    try SafetensorsSurgery.editingHeader(good) { json in
        var entry = json[tensor] as? [String: Any] ?? [:]
        entry["data_offsets"] = offsets
        json[tensor] = entry
    }
}

@Suite("model file limits")
struct ModelFileLimitTests {
    @Test("data_offsets ending at Int.max (start + end overflowed) are refused as outside the data")
    func overflowingOffsets() throws {
        let good = ModelFile.encode(try smallModel())
        let crafted = try SafetensorsSurgery.overflowingOffsets(good)
        #expect(decodeError(crafted) == "m.safetensors: tensor \"layers.0.weight\" data_offsets [\(Int.max - 144), "
                + "\(Int.max)] are not an ordered range inside the 668 bytes of tensor data (truncated?)" + hint)
    }

    @Test("offsets out of order, negative, not whole numbers, or not 4 × the shape's product")
    func badOffsets() throws {
        let good = ModelFile.encode(try smallModel())
        let prefix = "m.safetensors: tensor \"layers.0.bias\" data_offsets "
        let suffix = " are not an ordered range inside the 668 bytes of tensor data (truncated?)" + hint
        #expect(decodeError(try withOffsets(good, [160, 144])) == prefix + "[160, 144]" + suffix)
        #expect(decodeError(try withOffsets(good, [Int.min, 16])) == prefix + "[\(Int.min), 16]" + suffix)
        #expect(decodeError(try withOffsets(good, [1e30, 2e30])) == prefix + "[?, ?]" + suffix)
        #expect(decodeError(try withOffsets(good, [144])) == prefix + "[144]" + suffix)
        #expect(decodeError(try withOffsets(good, [144, 164]))
                == "m.safetensors: tensor \"layers.0.bias\" data_offsets [144, 164] hold 20 bytes, but F32 [4] needs 16" + hint)
    }

    @Test("filters = 999999999 or an input of 3037000500² in the metadata: refused before anything is allocated")
    func absurdArchitecture() throws {
        let good = ModelFile.encode(try smallModel())
        let filters = try SafetensorsSurgery.editingLayer(good, type: "conv2d", key: "filters", value: 999_999_999)
        #expect(decodeError(filters) == "m.safetensors: bad architecture: layer 1: conv2d 999999999×3×3, pad 1: 999999999 "
                + "filters exceed the limit of 65536" + hint)
        let size = try SafetensorsSurgery.editingLayer(good, type: "conv2d", key: "size", value: 999_999_999)
        #expect(decodeError(size)?.contains("layer 1: conv2d 4×999999999×999999999, pad 1: size 999999999 exceeds the limit of 1025")
                == true)
        let input = try SafetensorsSurgery.editingMetadata(good, "input") { value in
            var object = value as? [String: Any] ?? [:]
            object["width"] = 3_037_000_500
            object["height"] = 3_037_000_500
            value = object
        }
        #expect(decodeError(input) == "m.safetensors: bad architecture: input height 3037000500 exceeds the limit of 65536"
                + hint)
    }

    @Test("a NaN or infinite weight is refused (it would only give NaN scores)")
    func nonFinite() throws {
        var bytes = ModelFile.encode(try smallModel())
        let start = 8 + (try SafetensorsSurgery.header(of: bytes)).length
        // layers.0.bias starts after the 36 conv weights; its second value becomes NaN.
        let nan = Float.nan.bitPattern
        for i in 0..<4 { bytes[start + 148 + i] = UInt8((nan >> (8 * UInt32(i))) & 0xff) }
        #expect(decodeError(bytes) == "m.safetensors: tensor \"layers.0.bias\" value 1 is nan, not a finite number" + hint)
    }

    @Test("an architecture needing more data than the file holds is refused before the network is built")
    func tooShortForArchitecture() throws {
        let good = ModelFile.encode(try smallModel())
        // 65536 units fit the limits, but their 2.4M weights are not in a 668-byte data section.
        let wide = try SafetensorsSurgery.editingLayer(good, type: "dense", key: "units", value: 65536)
        let labels = try SafetensorsSurgery.editingMetadata(wide, "labels") { value in
            value = (0..<65536).map { "c\($0)" }
        }
        #expect(decodeError(labels) == "m.safetensors: truncated: the architecture stores 2424888 F32 values, but only "
                + "668 bytes follow the header" + hint)
    }
}
