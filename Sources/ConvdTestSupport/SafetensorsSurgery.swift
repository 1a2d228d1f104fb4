// SafetensorsSurgery: edits of a model file's JSON header for tests of hostile model files
// (security audit #14): rewrite the header with the tensor data kept, move a tensor's
// data_offsets up to Int.max, change one hyper-parameter of the architecture metadata.
import Foundation

/// Helpers that edit safetensors bytes.
public enum SafetensorsSurgery {
    /// Why an edit could not be made (the input was not the expected file).
    public struct EditError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The header's length and its JSON object, read as an independent reader would.
    public static func header(of bytes: [UInt8]) throws -> (length: Int, json: [String: Any]) {
        guard bytes.count >= 8 else { throw EditError(description: "shorter than 8 bytes") }
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        guard length >= 0, 8 + length <= bytes.count,
              let json = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any] else {
            throw EditError(description: "no JSON header of \(length) bytes")
        }
        return (length, json)
    }

    /// `bytes` with its header edited, re-serialised and padded to 8 bytes; the data is kept.
    public static func editingHeader(_ bytes: [UInt8], _ edit: (inout [String: Any]) throws -> Void) throws -> [UInt8] {
        var (length, json) = try header(of: bytes)
        try edit(&json)
        var text = Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
        while text.count % 8 != 0 { text.append(0x20) }
        let data = Array(bytes[(8 + length)...])
        length = text.count
        return (0..<8).map { UInt8((length >> (8 * $0)) & 0xff) } + text + data
    }

    /// `bytes` with `tensor`'s data_offsets moved to end at Int.max, its length kept, so that
    /// `start + end` overflows (audit #14a).
    public static func overflowingOffsets(_ bytes: [UInt8], tensor: String = "layers.0.weight") throws -> [UInt8] {
        try editingHeader(bytes) { json in
            guard var entry = json[tensor] as? [String: Any], let offsets = entry["data_offsets"] as? [Int],
                  offsets.count == 2 else { throw EditError(description: "no tensor \(tensor)") }
            entry["data_offsets"] = [Int.max - (offsets[1] - offsets[0]), Int.max]
            json[tensor] = entry
        }
    }

    /// `bytes` with `key = value` set in the first layer of type `type` of the architecture
    /// in `__metadata__` (e.g. filters = 999999999, audit #14b).
    public static func editingLayer(_ bytes: [UInt8], type: String, key: String, value: Any) throws -> [UInt8] {
        try editingMetadata(bytes, "architecture") { architecture in
            guard var layers = architecture as? [[String: Any]],
                  let index = layers.firstIndex(where: { $0["type"] as? String == type }) else {
                throw EditError(description: "no \(type) layer")
            }
            layers[index][key] = value
            architecture = layers
        }
    }

    /// `bytes` with the JSON held in `__metadata__[key]` edited.
    public static func editingMetadata(_ bytes: [UInt8], _ key: String, _ edit: (inout Any) throws -> Void) throws
        -> [UInt8] {
        try editingHeader(bytes) { json in
            guard var metadata = json["__metadata__"] as? [String: String], let text = metadata[key] else {
                throw EditError(description: "no __metadata__ \(key)")
            }
            var value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            try edit(&value)
            metadata[key] = String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]),
                                   as: UTF8.self)
            json["__metadata__"] = metadata
        }
    }
}
