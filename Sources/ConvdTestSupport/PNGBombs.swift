// PNGBombs: hostile PNGs for the memory tests — chunks whose declared length runs past the end
// of the file (libpng's own contrib/testpngs/crashers, audit #26) and valid images carrying
// zTXt or iCCP chunks that inflate to megabytes each (audit #3).
import CZlib

public enum PNGBombs {
    /// A chunk: length, type, data, CRC.
    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let tag = Array(type.utf8)
        let length = UInt32(data.count)
        let crc = PNGChunks.crc32(ArraySlice(tag + data))
        return bigEndian(length) + tag + data + bigEndian(crc)
    }

    /// A 57-byte file as in libpng's crashers: a 1×1 gray IHDR, then a `type` chunk whose
    /// length field says 0x3fffffff, and the file ends 16 bytes later.
    public static func hugeDeclaredLength(_ type: String) -> [UInt8] {
        let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
        let ihdr = chunk("IHDR", bigEndian(1) + bigEndian(1) + [8, 0, 0, 0, 0])
        return signature + ihdr + bigEndian(0x3fff_ffff) + Array(type.utf8) + Array("abcdefghijklmnop".utf8)
    }

    /// `png` with `count` copies of `chunk` inserted before its first IDAT.
    public static func inserting(_ chunk: [UInt8], count: Int, into png: [UInt8]) -> [UInt8] {
        guard let idat = PNGChunks.offset(of: "IDAT", in: png) else { return png }
        var out = Array(png[..<idat])
        for _ in 0..<count { out += chunk }
        return out + png[idat...]
    }

    /// A zTXt chunk whose text inflates to `inflated` bytes of "A".
    public static func zTXt(inflated: Int) -> [UInt8] {
        chunk("zTXt", Array("Comment".utf8) + [0, 0] + deflate([UInt8](repeating: 65, count: inflated)))
    }

    /// An iCCP chunk whose profile inflates to `inflated` zero bytes.
    public static func iCCP(inflated: Int) -> [UInt8] {
        chunk("iCCP", Array("bomb".utf8) + [0, 0] + deflate([UInt8](repeating: 0, count: inflated)))
    }

    /// zlib-compressed `bytes` (level 9).
    public static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = compress2(&out, &size, bytes, uLong(bytes.count), 9)
        precondition(status == Z_OK, "zlib compress2 failed")
        return Array(out[..<Int(size)])
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }
}
