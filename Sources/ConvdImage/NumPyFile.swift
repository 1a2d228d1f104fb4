// NumPyFile: the NumPy .npy format 1.0 for float32 tensors: the magic "\x93NUMPY", version
// 1.0, a little-endian u16 header length, an ASCII dict padded with spaces to a 64-byte
// boundary and ending in "\n", then the raw little-endian float32 data in C order.
import ConvdCore

/// Reads and writes `.npy` files holding `<f4` arrays.
public enum NumPyFile {
    /// The bytes of a version 1.0 `.npy` file holding `tensor` with shape (C, H, W).
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': "
            + "(\(tensor.channels), \(tensor.height), \(tensor.width)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let length = UInt16(header.utf8.count)
        bytes += [UInt8(length & 0xff), UInt8(length >> 8)]
        bytes += Array(header.utf8)
        bytes.reserveCapacity(bytes.count + tensor.scalars.count * 4)
        let littleEndian = tensor.scalars.map { Float(bitPattern: $0.bitPattern.littleEndian) }
        littleEndian.withUnsafeBytes { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Parses a `.npy` file of `<f4` samples with a 3-dimensional C-order shape; `path` names
    /// the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(ImageError) -> Tensor {
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw ImageError(path: path, reason: "not a NumPy .npy file (bad magic)")
        }
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes[6] == 1, bytes.count >= 10 + length else {
            throw ImageError(path: path, reason: "unsupported .npy version or truncated header")
        }
        let header = String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
        guard header.contains("'descr': '<f4'"), header.contains("'fortran_order': False"),
              let shapeText = header.split(separator: "(").dropFirst().first?.split(separator: ")").first
        else { throw ImageError(path: path, reason: "expected a C-order <f4 array") }
        let parts = shapeText.split(separator: ",").map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        let dims = parts.compactMap { Int($0) }
        guard dims.count == parts.count else {
            throw ImageError(path: path, reason: "shape (\(shapeText)) is not a list of whole numbers")
        }
        guard dims.count == 3 else { throw ImageError(path: path, reason: "expected a 3-dimensional array") }
        if let negative = dims.first(where: { $0 < 0 }) {
            throw ImageError(path: path, reason: "shape \(dims) has a negative dimension \(negative)")
        }
        // Checked arithmetic: the shape is the file's word, and the data must match it exactly
        // (audit #24), so absurd dimensions are refused before anything is allocated.
        let start = 10 + length
        guard let count = CheckedSize.product(dims), let dataBytes = CheckedSize.product(count, 4),
              dataBytes == bytes.count - start else {
            throw ImageError(path: path, reason: "data size \(bytes.count - start) bytes does not match shape \(dims)")
        }
        var scalars = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + 4 * i
            let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16
                | UInt32(bytes[o + 3]) << 24
            scalars[i] = Float(bitPattern: bits)
        }
        return Tensor(channels: dims[0], height: dims[1], width: dims[2], scalars: scalars)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var s = self
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return s
    }
}
