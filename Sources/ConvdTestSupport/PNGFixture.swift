// PNGFixture: PNG files of every colour type and bit depth, made in code for the tests with
// libpng's writer (through CPNG), from samples given one per value as the file stores them.
import ConvdNet
import CPNG

/// A PNG to build: size, colour type, bit depth and the samples.
public struct PNGFixture: Sendable {
    /// Colour types, as the PNG spec numbers them.
    public enum ColorType: Int32, Sendable, CaseIterable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        /// Samples per pixel in the file.
        public var samplesPerPixel: Int {
            switch self {
            case .gray, .palette: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        /// The bit depths the PNG spec allows.
        public var bitDepths: [Int] {
            switch self {
            case .gray: return [1, 2, 4, 8, 16]
            case .palette: return [1, 2, 4, 8]
            case .rgb, .grayAlpha, .rgba: return [8, 16]
            }
        }
    }

    public var width: Int
    public var height: Int
    public var colorType: ColorType
    public var bitDepth: Int
    /// One value per sample, row-major, interleaved (palette: indices).
    public var samples: [UInt16]
    public var interlaced = false
    /// PLTE entries as RGB triples (palette images).
    public var palette: [UInt8] = []
    /// tRNS alpha per palette entry.
    public var paletteAlpha: [UInt8] = []
    /// tRNS colour for gray (one value) or RGB (three values) images.
    public var transparentColor: [UInt16]? = nil
    public var compressionLevel = 6

    public init(width: Int, height: Int, colorType: ColorType, bitDepth: Int, samples: [UInt16]) {
        self.width = width
        self.height = height
        self.colorType = colorType
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// A fixture of random samples (palette images get a random palette of 2^depth entries).
    public static func random(width: Int, height: Int, colorType: ColorType, bitDepth: Int,
                              using generator: inout some RandomNumberGenerator) -> PNGFixture {
        let maxValue = UInt16((1 << bitDepth) - 1)
        let count = width * height * colorType.samplesPerPixel
        var fixture = PNGFixture(width: width, height: height, colorType: colorType, bitDepth: bitDepth,
                                 samples: (0..<count).map { _ in UInt16.random(in: 0...maxValue, using: &generator) })
        if colorType == .palette {
            fixture.palette = (0..<(3 << bitDepth)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        return fixture
    }

    /// The PNG file's bytes.
    public func encoded() throws -> [UInt8] {
        let rowBytes = (width * colorType.samplesPerPixel * bitDepth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        let perRow = width * colorType.samplesPerPixel
        for y in 0..<height {
            for i in 0..<perRow {
                let v = samples[y * perRow + i]
                let o = y * rowBytes
                switch bitDepth {
                case 16:
                    // Native (little-endian) order: CPNG swaps to the file's big-endian order.
                    rows[o + 2 * i] = UInt8(v & 0xff)
                    rows[o + 2 * i + 1] = UInt8(v >> 8)
                case 8:
                    rows[o + i] = UInt8(v)
                default:
                    let bit = i * bitDepth
                    rows[o + bit / 8] |= UInt8(v) << (8 - bitDepth - bit % 8)
                }
            }
        }
        var spec = cpng_encode_spec()
        spec.width = UInt32(width)
        spec.height = UInt32(height)
        spec.color_type = colorType.rawValue
        spec.bit_depth = Int32(bitDepth)
        spec.interlaced = interlaced ? 1 : 0
        spec.compression_level = Int32(compressionLevel)
        if let t = transparentColor {
            spec.has_trans_color = 1
            if t.count == 1 { spec.trans_gray = t[0] } else {
                spec.trans_red = t[0]
                spec.trans_green = t[1]
                spec.trans_blue = t[2]
            }
        }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = palette.withUnsafeBufferPointer { p in
            paletteAlpha.withUnsafeBufferPointer { a in
                spec.palette_rgb = p.baseAddress
                spec.num_palette = Int32(p.count / 3)
                spec.trans_alpha = a.baseAddress
                spec.num_trans = Int32(a.count)
                return rows.withUnsafeBytes { r in
                    cpng_encode(&spec, r.baseAddress, rowBytes, &out, &size, &message, message.count)
                }
            }
        }
        guard status == 0, let out else {
            throw FixtureError(message: message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        defer { cpng_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }
}

/// libpng refused to write a fixture.
public struct FixtureError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "fixture: \(message)" }
}

/// The seeded generator tests use: ConvdNet's SplitMix64, so random tests repeat exactly.
public typealias SeededGenerator = SplitMix64
