// PNGChunks: byte-level surgery on PNG files for rejection tests: rewrite IHDR with a valid CRC,
// flip a byte inside IDAT, cut a file short.

/// Helpers that edit PNG bytes.
public enum PNGChunks {
    /// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).
    public static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }

    /// The byte offset of the first chunk of `type` (its length field), if any.
    public static func offset(of type: String, in png: [UInt8]) -> Int? {
        var o = 8
        let tag = Array(type.utf8)
        while o + 8 <= png.count {
            let length = Int(png[o]) << 24 | Int(png[o + 1]) << 16 | Int(png[o + 2]) << 8 | Int(png[o + 3])
            if Array(png[(o + 4)..<(o + 8)]) == tag { return o }
            o += 12 + length
        }
        return nil
    }

    /// `png` with IHDR's width and height replaced and its CRC recomputed.
    public static func withDimensions(_ png: [UInt8], width: UInt32, height: UInt32) -> [UInt8] {
        var out = png
        guard let o = offset(of: "IHDR", in: png) else { return png }
        for (i, v) in [width, height].enumerated() {
            for b in 0..<4 { out[o + 8 + 4 * i + b] = UInt8((v >> (24 - 8 * UInt32(b))) & 0xff) }
        }
        let crc = crc32(out[(o + 4)..<(o + 8 + 13)])
        for b in 0..<4 { out[o + 8 + 13 + b] = UInt8((crc >> (24 - 8 * UInt32(b))) & 0xff) }
        return out
    }

    /// `png` with the stored CRC of the first `type` chunk inverted (its data intact).
    public static func withCorruptCRC(of type: String, _ png: [UInt8]) -> [UInt8] {
        var out = png
        guard let o = offset(of: type, in: png) else { return png }
        let length = Int(png[o]) << 24 | Int(png[o + 1]) << 16 | Int(png[o + 2]) << 8 | Int(png[o + 3])
        out[o + 8 + length] ^= 0xFF
        return out
    }
}
