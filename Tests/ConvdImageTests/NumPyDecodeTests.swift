// .npy decoding of hostile shapes (security audit #24): negative or absurd dimensions and a
// product that overflows Int are errors naming the file, and the data must match the shape
// exactly; nothing is allocated from the shape alone.
import ConvdCore
import ConvdImage
import Testing

/// A version 1.0 `.npy` file with `shape` written as given and `dataBytes` zero bytes of data.
private func npy(shape: String, dataBytes: Int) -> [UInt8] {
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    let length = header.utf8.count
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xff), UInt8(length >> 8)] + Array(header.utf8)
        + [UInt8](repeating: 0, count: dataBytes)
}

private func decodeError(_ bytes: [UInt8]) -> String? {
    do {
        _ = try NumPyFile.decode(bytes, path: "t.npy")
        return nil
    } catch {
        return error.description
    }
}

@Suite(".npy decoding")
struct NumPyDecodeTests {
    @Test("hostile shapes are errors", arguments: [
        ("3, -1, 4", 0, "t.npy: shape [3, -1, 4] has a negative dimension -1"),
        ("4611686018427387904, 4, 1", 16, "t.npy: data size 16 bytes does not match shape [4611686018427387904, 4, 1]"),
        ("3037000500, 3037000500, 1", 16, "t.npy: data size 16 bytes does not match shape [3037000500, 3037000500, 1]"),
        ("1000000, 1000000, 1000", 16, "t.npy: data size 16 bytes does not match shape [1000000, 1000000, 1000]"),
        ("2, x, 2", 16, "t.npy: shape (2, x, 2) is not a list of whole numbers"),
        ("2, 2", 16, "t.npy: expected a 3-dimensional array"),
        ("1, 2, 2", 12, "t.npy: data size 12 bytes does not match shape [1, 2, 2]"),
        ("1, 2, 2", 20, "t.npy: data size 20 bytes does not match shape [1, 2, 2]"),
    ])
    func hostile(shape: String, dataBytes: Int, message: String) {
        #expect(decodeError(npy(shape: shape, dataBytes: dataBytes)) == message)
    }

    @Test("a well-formed file still decodes")
    func good() throws {
        #expect(try NumPyFile.decode(npy(shape: "1, 2, 2", dataBytes: 16), path: "t.npy")
                == Tensor(channels: 1, height: 2, width: 2, repeating: 0))
    }
}
