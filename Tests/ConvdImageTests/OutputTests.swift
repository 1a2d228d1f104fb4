// Outputs: PNG encoding (8/16-bit, gray/RGB, zlib levels), .npy bytes, feature-map naming and
// the montage grid.
import ConvdCore
import ConvdImage
import ConvdTestSupport
import Testing

@Suite("outputs")
struct OutputTests {
    @Test("8- and 16-bit gray and RGB encode and decode back exactly at every zlib level")
    func encodeRoundTrip() throws {
        var generator = SeededGenerator(seed: 5)
        for channels in [1, 3] {
            for level in [0, 1, 6, 9] {
                let s8 = (0..<(17 * 5 * channels)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let png8 = try PNGCodec.encode(s8, width: 17, height: 5, channels: channels, level: level)
                let back8 = try PNGCodec.decode(png8, path: "e.png", options: DecodeOptions(scale: .raw))
                #expect(back8.shape == TensorShape(channels: channels, height: 5, width: 17))
                #expect((0..<s8.count).allSatisfy { i in back8.scalars[(i % channels) * 85 + i / channels] == Float(s8[i]) })
                let s16 = (0..<(17 * 5 * channels)).map { _ in UInt16.random(in: 0...65535, using: &generator) }
                let png16 = try PNGCodec.encode16(s16, width: 17, height: 5, channels: channels, level: level)
                let header = try PNGCodec.header(of: png16, path: "e16.png")
                #expect(header.bitDepth == 16)
                let back16 = try PNGCodec.decode(png16, path: "e16.png", options: DecodeOptions(scale: .raw))
                #expect((0..<s16.count).allSatisfy { i in back16.scalars[(i % channels) * 85 + i / channels] == Float(s16[i]) })
            }
        }
    }

    @Test(".npy: the exact header bytes and little-endian float32 data")
    func npy() throws {
        let t = Tensor(channels: 2, height: 1, width: 2, scalars: [1, -2.5, 0, 3])
        let bytes = NumPyFile.encode(t)
        #expect(Array(bytes[0..<8]) == [0x93, 78, 85, 77, 80, 89, 1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2), }"))
        #expect(header.hasSuffix(" \n"))
        #expect(Array(bytes[(10 + headerLength)...].prefix(8)) == [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0])
        #expect(try NumPyFile.decode(bytes, path: "t.npy") == t)
    }

    @Test("file names: two-digit map indexes, more digits past 100 maps")
    func names() {
        let out = FeatureMapOutput(chainName: "edges", formats: [.png, .montage, .npy])
        #expect(out.fileNames(stem: "photo", mapCount: 2)
                == ["photo.edges.fm00.png", "photo.edges.fm01.png", "photo.edges.montage.png", "photo.edges.npy"])
        #expect(out.fileNames(stem: "p", mapCount: 101)[100] == "p.edges.fm100.png")
        #expect(FeatureMapOutput(chainName: "c", formats: .npy).fileNames(stem: "a.b", mapCount: 3) == ["a.b.c.npy"])
    }

    @Test("format lists parse; png with png16 is refused")
    func formats() throws {
        #expect(try OutputFormats.parse("png,npy").get() == [.png, .npy])
        #expect(throws: FormatListError(message: "unknown format \"jpg\" (formats: png, png16, npy, montage)")) {
            try OutputFormats.parse("png,jpg").get()
        }
        #expect(throws: FormatListError.self) { try OutputFormats.parse("png,png16").get() }
    }

    @Test("a montage of 3 maps is a 2×2 grid with 2-pixel separators; maps are min-max scaled")
    func montage() throws {
        let maps = Tensor(planes: [[[0, 1], [2, 3]], [[5, 5], [5, 5]], [[-1, 0], [0, 1]]])
        let png = try FeatureMapRenderer().montage(maps)
        let picture = try PNGCodec.decode(png, path: "m.png", options: DecodeOptions(scale: .raw))
        #expect(picture.shape == TensorShape(channels: 1, height: 6, width: 6))
        #expect(picture.rows()[0] == [0, 85, 255, 255, 0, 0])
        #expect(picture.rows()[1] == [170, 255, 255, 255, 0, 0])
        #expect(picture.rows()[2] == [255, 255, 255, 255, 255, 255])
        #expect(picture.rows()[4] == [0, 128, 255, 255, 0, 0])
        #expect(picture.rows()[5] == [128, 255, 255, 255, 0, 0])
    }
}
