// Bad PNG input: each kind of damage gets its own one-line message naming the file; nothing
// crashes and no pixel buffer is allocated for an oversized header.
import ConvdImage
import ConvdTestSupport
import Testing

private func validPNG() throws -> [UInt8] {
    var generator = SeededGenerator(seed: 9)
    return try PNGFixture.random(width: 64, height: 64, colorType: .rgb, bitDepth: 8, using: &generator).encoded()
}

private func decodeError(_ bytes: [UInt8], limits: ImageLimits = .default) -> String? {
    do {
        _ = try PNGCodec.decode(bytes, path: "in/bad.png", options: DecodeOptions(limits: limits))
        return nil
    } catch {
        return error.description
    }
}

@Suite("PNG rejection")
struct PNGRejectionTests {
    @Test("zero-byte file")
    func empty() {
        #expect(decodeError([]) == "in/bad.png: empty file (0 bytes)")
    }

    @Test("wrong signature")
    func signature() throws {
        #expect(decodeError(Array("GIF89a not a png at all".utf8)) == "in/bad.png: not a PNG file (bad signature)")
        var png = try validPNG()
        png[1] = UInt8(ascii: "J")
        #expect(decodeError(png) == "in/bad.png: not a PNG file (bad signature)")
    }

    @Test("truncated file, cut in the signature, the header and the image data")
    func truncated() throws {
        let png = try validPNG()
        #expect(decodeError(Array(png[0..<5])) == "in/bad.png: truncated (file ends inside the PNG signature)")
        for cut in [20, png.count / 2, png.count - 13] {
            #expect(decodeError(Array(png[0..<cut])) == "in/bad.png: truncated (file ends before the image data does)")
        }
    }

    @Test("corrupted CRC in IHDR and IDAT; damaged compressed data")
    func corruptCRC() throws {
        let png = try validPNG()
        #expect(decodeError(PNGChunks.withCorruptCRC(of: "IDAT", png)) == "in/bad.png: corrupt PNG (IDAT: CRC error)")
        #expect(decodeError(PNGChunks.withCorruptCRC(of: "IHDR", png)) == "in/bad.png: corrupt PNG (IHDR: CRC error)")
        var damaged = png
        damaged[PNGChunks.offset(of: "IDAT", in: png)! + 10] ^= 0xFF
        #expect(decodeError(damaged)?.hasPrefix("in/bad.png: corrupt PNG (IDAT: ") == true)
    }

    @Test("a header claiming 100000×100000 is refused before any allocation")
    func oversized() throws {
        let huge = PNGChunks.withDimensions(try validPNG(), width: 100_000, height: 100_000)
        #expect(decodeError(huge) == "in/bad.png: 100000×100000 is 10000000000 pixels, over the limit of 50000000 pixels")
        let header = try PNGCodec.header(of: huge, path: "in/bad.png")
        #expect(header.width == 100_000 && header.height == 100_000)
    }

    @Test("file-size and pixel limits are configurable")
    func limits() throws {
        let png = try validPNG()
        #expect(decodeError(png, limits: ImageLimits(maxPixels: 100, maxFileBytes: 1 << 20))
                == "in/bad.png: 64×64 is 4096 pixels, over the limit of 100 pixels")
        #expect(decodeError(png, limits: ImageLimits(maxPixels: 100, maxFileBytes: 100))
                == "in/bad.png: file is \(png.count) bytes, over the limit of 100 bytes")
    }

    @Test("decodeFile names the path: missing file, a folder")
    func files() throws {
        let dir = TemporaryDirectory()
        #expect(throws: ImageError(path: dir.file("nope.png"), reason: "cannot open: No such file or directory")) {
            try PNGCodec.decodeFile(dir.file("nope.png"))
        }
        #expect(throws: ImageError(path: dir.path, reason: "not a regular file (a folder)")) {
            try PNGCodec.decodeFile(dir.path)
        }
    }

    @Test("random damage never crashes: every outcome is a tensor or an ImageError")
    func randomDamage() throws {
        let png = try validPNG()
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<300 {
            var damaged = png
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let i = Int.random(in: 8..<damaged.count, using: &generator)
                damaged[i] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { damaged = Array(damaged.prefix(Int.random(in: 8...damaged.count, using: &generator))) }
            do {
                let t = try PNGCodec.decode(damaged, path: "x.png")
                #expect(t.channels == 3)
            } catch {
                #expect(error.description.hasPrefix("x.png: "))
            }
        }
    }
}
