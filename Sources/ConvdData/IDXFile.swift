// IDXFile: the MNIST file format, gzipped or not: a magic number (0x0000 08 DD: unsigned
// bytes, DD dimensions), big-endian 32-bit sizes, then the data.
import ConvdImage
import ConvdSystem

/// An IDX array of unsigned bytes.
struct IDXFile {
    let dimensions: [Int]
    let values: [UInt8]

    /// Reads `path`, inflating it when it is gzipped.
    static func read(_ path: String) throws(DatasetError) -> IDXFile {
        var bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path, limit: 1 << 30)
        } catch {
            throw DatasetError(path: path, reason: error.reason)
        }
        if Gunzip.isGzip(bytes) {
            guard let inflated = Gunzip.inflate(bytes) else {
                throw DatasetError(path: path, reason: "corrupt or truncated gzip data")
            }
            bytes = inflated
        }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, (1...4).contains(bytes[3]) else {
            throw DatasetError(path: path, reason: "not an IDX file of unsigned bytes (bad magic)")
        }
        let rank = Int(bytes[3])
        guard bytes.count >= 4 + 4 * rank else { throw DatasetError(path: path, reason: "truncated IDX header") }
        let dims = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let count = dims.reduce(1, *)
        guard bytes.count == 4 + 4 * rank + count else {
            throw DatasetError(path: path, reason: "IDX data has \(bytes.count - 4 - 4 * rank) bytes, the header "
                               + "says \(dims.map(String.init).joined(separator: "×")) = \(count)")
        }
        return IDXFile(dimensions: dims, values: Array(bytes[(4 + 4 * rank)...]))
    }
}
