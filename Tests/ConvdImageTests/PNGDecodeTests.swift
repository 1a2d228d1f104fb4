// PNG decoding: every colour type and bit depth, with and without tRNS, plain and Adam7,
// round-tripped from fixtures made in code; raw and unit scaling; alpha over black.
import ConvdCore
import ConvdImage
import ConvdTestSupport
import Testing

struct DecodeCase: CustomTestStringConvertible, Sendable {
    let colorType: PNGFixture.ColorType
    let bitDepth: Int
    let transparency: Bool
    let interlaced: Bool
    var testDescription: String {
        "\(colorType) \(bitDepth)-bit\(transparency ? " tRNS" : "")\(interlaced ? " Adam7" : "")"
    }

    static let all: [DecodeCase] = PNGFixture.ColorType.allCases.flatMap { type in
        type.bitDepths.flatMap { depth in
            [false, true].flatMap { trns in
                (trns && (type == .grayAlpha || type == .rgba)) ? [] : [false, true].map { adam7 in
                    DecodeCase(colorType: type, bitDepth: depth, transparency: trns, interlaced: adam7)
                }
            }
        }
    }
}

/// What the decoder must produce for `fixture`, computed from the samples by the rules of
/// the issue: raw samples (or /(2^depth − 1)), palette looked up, alpha composited on black.
private func expected(_ fixture: PNGFixture, scale: SampleScale) -> Tensor {
    let pixels = fixture.width * fixture.height
    let spp = fixture.colorType.samplesPerPixel
    let colour = [.rgb, .rgba, .palette].contains(fixture.colorType) ? 3 : 1
    var maximum = Float((1 << fixture.bitDepth) - 1)
    if fixture.colorType == .palette { maximum = 255 }
    var out = [Float](repeating: 0, count: pixels * colour)
    for p in 0..<pixels {
        var values: [Float]
        var alpha: Float = 1
        switch fixture.colorType {
        case .palette:
            let index = Int(fixture.samples[p])
            values = (0..<3).map { Float(fixture.palette[3 * index + $0]) }
            if index < fixture.paletteAlpha.count { alpha = Float(fixture.paletteAlpha[index]) / 255 }
        case .gray, .rgb:
            let sample = Array(fixture.samples[(p * spp)..<((p + 1) * spp)])
            values = sample.map(Float.init)
            if let t = fixture.transparentColor, t == sample { alpha = 0 }
        case .grayAlpha, .rgba:
            values = fixture.samples[(p * spp)..<((p + 1) * spp - 1)].map(Float.init)
            alpha = Float(fixture.samples[(p + 1) * spp - 1]) / maximum
        }
        for c in 0..<colour {
            let v = scale == .unit ? values[c] / maximum : values[c]
            out[c * pixels + p] = alpha == 1 ? v : v * alpha
        }
    }
    return Tensor(channels: colour, height: fixture.height, width: fixture.width, scalars: out)
}

@Suite("PNG decoding")
struct PNGDecodeTests {
    @Test("every colour type and bit depth decodes to the file's samples", arguments: DecodeCase.all)
    func roundTrip(_ c: DecodeCase) throws {
        var generator = SeededGenerator(seed: UInt64(c.colorType.rawValue * 100 + Int32(c.bitDepth)))
        var fixture = PNGFixture.random(width: 13, height: 7, colorType: c.colorType, bitDepth: c.bitDepth,
                                        using: &generator)
        fixture.interlaced = c.interlaced
        if c.transparency {
            switch c.colorType {
            case .palette: fixture.paletteAlpha = [0, 128]
            case .gray: fixture.transparentColor = [fixture.samples[3]]
            default: fixture.transparentColor = Array(fixture.samples[9..<12])
            }
        }
        let bytes = try fixture.encoded()
        let header = try PNGCodec.header(of: bytes, path: "fixture.png")
        #expect(header.bitDepth == c.bitDepth && header.colorType.rawValue == Int(c.colorType.rawValue))
        #expect(header.interlaced == c.interlaced && header.hasTransparency == c.transparency)
        for scale in SampleScale.allCases {
            let decoded = try PNGCodec.decode(bytes, path: "fixture.png", options: DecodeOptions(scale: scale))
            let want = expected(fixture, scale: scale)
            #expect(decoded.shape == want.shape)
            if c.transparency || [.grayAlpha, .rgba].contains(c.colorType) {
                #expect(maxAbsDifference(decoded.scalars, want.scalars) <= (scale == .unit ? 1e-6 : 1e-2))
            } else {
                #expect(decoded.scalars == want.scalars, "samples must be exact without alpha")
            }
        }
    }

    @Test("a transparent pixel over a white background is white; an opaque one keeps its value")
    func background() throws {
        var fixture = PNGFixture(width: 2, height: 1, colorType: .grayAlpha, bitDepth: 8, samples: [10, 0, 200, 255])
        fixture.compressionLevel = 9
        let decoded = try PNGCodec.decode(fixture.encoded(), path: "ga.png", options: DecodeOptions(background: 1))
        #expect(decoded.scalars == [1, 200 / 255])
        let raw = try PNGCodec.decode(fixture.encoded(), path: "ga.png", options: DecodeOptions(scale: .raw))
        #expect(raw.scalars == [0, 200])
    }

    @Test("16-bit samples are raw, not linearised: 32768 → 32768/65535")
    func sixteenBitRaw() throws {
        let fixture = PNGFixture(width: 3, height: 1, colorType: .gray, bitDepth: 16, samples: [0, 32768, 65535])
        let decoded = try PNGCodec.decode(fixture.encoded(), path: "g16.png")
        #expect(decoded.scalars == [0, Float(32768) / 65535, 1])
    }
}
