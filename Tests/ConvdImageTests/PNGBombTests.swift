// Hostile chunks (audit #3, #19, #26): a declared length past the end of the file is refused
// before libpng allocates it; text, iCCP and unknown ancillary chunks are skipped unread, so a
// valid image carrying inflate bombs decodes to the same pixels, quickly.
import ConvdImage
import ConvdTestSupport
import Testing

private func image() throws -> [UInt8] {
    var generator = SeededGenerator(seed: 31)
    return try PNGFixture.random(width: 16, height: 12, colorType: .rgb, bitDepth: 8, using: &generator).encoded()
}

@Suite("PNG bombs")
struct PNGBombTests {
    @Test("a chunk declaring 1 GiB in a 57-byte file is refused as truncated, for every chunk type",
          arguments: ["tEXt", "zTXt", "iTXt", "sPLT", "pCAL", "sCAL", "eXIf", "iCCP", "IDAT", "abCd"])
    func hugeDeclaredLength(type: String) {
        let file = PNGBombs.hugeDeclaredLength(type)
        #expect(file.count == 57)
        #expect(throws: ImageError(path: "x.png", reason: "truncated (file ends before the image data does)")) {
            try PNGCodec.decode(file, path: "x.png")
        }
        #expect(throws: ImageError(path: "x.png", reason: "truncated (file ends before the image data does)")) {
            try PNGCodec.header(of: file, path: "x.png")
        }
    }

    @Test("a length field over 2^31-1 is corrupt, whatever follows")
    func lengthOverPNGMaximum() throws {
        var file = PNGBombs.hugeDeclaredLength("tEXt")
        file[33] = 0x80
        #expect(throws: ImageError(path: "x.png", reason: "corrupt PNG (a chunk declares a length over 2^31-1 bytes)")) {
            try PNGCodec.decode(file, path: "x.png")
        }
    }

    @Test("60 zTXt and 60 iCCP chunks of 7.9 MB each: skipped, decoded to the same pixels")
    func inflateBombsSkipped() throws {
        let png = try image()
        let clean = try PNGCodec.decode(png, path: "clean.png")
        var bombed = PNGBombs.inserting(PNGBombs.zTXt(inflated: 7_900_000), count: 60, into: png)
        bombed = PNGBombs.inserting(PNGBombs.iCCP(inflated: 7_900_000), count: 60, into: bombed)
        bombed = PNGBombs.inserting(PNGBombs.chunk("vpAg", [UInt8](repeating: 7, count: 100_000)), count: 20, into: bombed)
        #expect(bombed.count > 1_000_000)
        #expect(try PNGCodec.decode(bombed, path: "bomb.png") == clean)
    }

    @Test("an unknown critical chunk is still an error")
    func unknownCritical() throws {
        let bombed = PNGBombs.inserting(PNGBombs.chunk("XXXX", [1, 2, 3]), count: 1, into: try image())
        #expect(throws: ImageError.self) { try PNGCodec.decode(bombed, path: "x.png") }
    }
}
