// PNGCodec: the one Swift file that talks to CPNG. Decoding turns the file's raw samples into
// a float32 C×H×W tensor (gray sources 1 channel, colour and palette 3), dividing by
// 2^depth − 1 (`unit`) or keeping the integers (`raw`), and compositing alpha and tRNS over a
// background (black by default). Encoding writes 8- or 16-bit gray or RGB at a zlib level.
import ConvdCore
import ConvdSystem
import CPNG

/// How decoded samples are scaled.
public enum SampleScale: String, Sendable, CaseIterable {
    /// Raw sample / (2^depth − 1): every image lands in 0...1.
    case unit
    /// The raw sample values (0...255 for 8-bit, 0...65535 for 16-bit, 0...2^depth − 1 below 8).
    case raw
}

/// Options for turning a PNG into a tensor.
public struct DecodeOptions: Sendable, Equatable {
    /// Sample scaling.
    public var scale: SampleScale
    /// The background that alpha is composited over, on the unit scale (0 = black).
    public var background: Float
    /// Size limits checked before any pixel buffer is allocated.
    public var limits: ImageLimits

    /// Options with the defaults: `unit`, black background, default limits.
    public init(scale: SampleScale = .unit, background: Float = 0, limits: ImageLimits = .default) {
        self.scale = scale
        self.background = background
        self.limits = limits
    }
}

/// PNG decoding and encoding over libpng.
public enum PNGCodec {
    /// Reads the header of a PNG held in memory; `path` only names the file in errors.
    public static func header(of bytes: [UInt8], path: String) throws(ImageError) -> PNGHeader {
        try PNGHeader(readInfo(bytes, path: path))
    }

    /// Reads and decodes the PNG at `path` (file size checked before reading).
    public static func decodeFile(_ path: String, options: DecodeOptions = DecodeOptions()) throws(ImageError)
        -> Tensor {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path, limit: options.limits.maxFileBytes)
        } catch {
            throw ImageError(path: path, reason: error.reason)
        }
        return try decode(bytes, path: path, options: options)
    }

    /// Decodes a PNG held in memory into a C×H×W tensor; `path` only names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String, options: DecodeOptions = DecodeOptions())
        throws(ImageError) -> Tensor {
        guard bytes.count <= options.limits.maxFileBytes else {
            throw ImageError(path: path, reason: "file is \(bytes.count) bytes, over the limit of "
                             + "\(options.limits.maxFileBytes) bytes")
        }
        let info = try readInfo(bytes, path: path)
        let width = Int(info.width), height = Int(info.height)
        let pixels = width * height
        guard pixels <= options.limits.maxPixels else {
            throw ImageError(path: path, reason: "\(width)×\(height) is \(pixels) pixels, over the limit of "
                             + "\(options.limits.maxPixels) pixels")
        }
        let channels = Int(info.channels), sampleBytes = Int(info.sample_bytes)
        // Neither buffer is zero-filled: the decoder writes every sample (or fails, and both are
        // dropped), and the conversion every float. The image, which outlives this call, is
        // allocated before the samples, which do not: freeing them then leaves no hole in the
        // heap below the image (Tensor.uninitialized keeps large blocks in the heap).
        let colour = channels >= 3 ? 3 : 1
        var image = Tensor.uninitialized(TensorShape(channels: colour, height: height, width: width))
        let count = pixels * channels * sampleBytes
        var samples = [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { b in
            samples.withUnsafeMutableBytes { s in
                cpng_decode(b.baseAddress, b.count, s.baseAddress, s.count, &message, message.count)
            }
        }
        guard status == 0 else { throw ImageError(path: path, reason: reason(from: message)) }
        let maximum = Float(info.color_max)
        samples.withUnsafeBytes { raw in
            if sampleBytes == 1 {
                planar(raw.bindMemory(to: UInt8.self), info: info, maximum: maximum, options: options, into: &image)
            } else {
                planar(raw.bindMemory(to: UInt16.self), info: info, maximum: maximum, options: options, into: &image)
            }
        }
        return image
    }

    /// Encodes interleaved 8-bit samples (1 = gray, 3 = RGB per pixel) at zlib `level` 0...9.
    public static func encode(_ samples: [UInt8], width: Int, height: Int, channels: Int,
                              level: Int = 6, path: String = "<memory>") throws(ImageError) -> [UInt8] {
        try encodeRows(samples, width: width, height: height, channels: channels, bitDepth: 8, level: level,
                       path: path)
    }

    /// Encodes interleaved 16-bit samples (1 = gray, 3 = RGB per pixel) at zlib `level` 0...9.
    public static func encode16(_ samples: [UInt16], width: Int, height: Int, channels: Int,
                                level: Int = 6, path: String = "<memory>") throws(ImageError) -> [UInt8] {
        try encodeRows(samples, width: width, height: height, channels: channels, bitDepth: 16, level: level,
                       path: path)
    }

    private static func encodeRows<Sample>(_ samples: [Sample], width: Int, height: Int, channels: Int,
                                           bitDepth: Int, level: Int, path: String) throws(ImageError) -> [UInt8] {
        precondition(channels == 1 || channels == 3, "PNG output is gray or RGB")
        precondition(samples.count == width * height * channels, "sample count does not match the image")
        var spec = cpng_encode_spec()
        spec.width = UInt32(width)
        spec.height = UInt32(height)
        spec.color_type = channels == 1 ? 0 : 2
        spec.bit_depth = Int32(bitDepth)
        spec.compression_level = Int32(min(max(level, 0), 9))
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let rowBytes = width * channels * MemoryLayout<Sample>.size
        let status = samples.withUnsafeBytes { s in
            cpng_encode(&spec, s.baseAddress, rowBytes, &out, &size, &message, message.count)
        }
        guard status == 0, let out else { throw ImageError(path: path, reason: "PNG encoding failed: "
                                                           + reason(from: message)) }
        defer { cpng_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    private static func readInfo(_ bytes: [UInt8], path: String) throws(ImageError) -> cpng_info {
        var info = cpng_info()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { b in
            cpng_read_header(b.baseAddress, b.count, &info, &message, message.count)
        }
        guard status == 0 else { throw ImageError(path: path, reason: reason(from: message)) }
        return info
    }

    /// libpng's own messages ("IDAT: CRC error") get a prefix that says what they mean to a user.
    private static func reason(from message: [CChar]) -> String {
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let ours = ["empty file", "not a PNG file", "truncated", "out of memory"]
        return ours.contains(where: text.hasPrefix) ? text : "corrupt PNG (\(text))"
    }

    /// Interleaved samples (gray, gray+alpha, RGB, RGBA) → planar float, alpha composited, into
    /// `out` (1 or 3 planes of the image's size, every sample overwritten).
    private static func planar<Sample: BinaryInteger>(_ s: UnsafeBufferPointer<Sample>, info: cpng_info,
                                                      maximum: Float, options: DecodeOptions, into out: inout Tensor) {
        let pixels = out.planeSize, colour = out.channels
        let inChannels = Int(info.channels)
        let hasAlpha = inChannels == 2 || inChannels == 4
        let unit = options.scale == .unit
        let divisor: Float = unit ? maximum : 1
        let background = options.background * (unit ? 1 : maximum)
        out.scalars.withUnsafeMutableBufferPointer { o in
            let o = o.baseAddress!
            if hasAlpha {
                for c in 0..<colour {
                    let plane = o + c * pixels
                    for p in 0..<pixels {
                        let a = Float(s[p * inChannels + inChannels - 1]) / maximum
                        let v = Float(s[p * inChannels + c]) / divisor
                        plane[p] = v * a + background * (1 - a)
                    }
                }
            } else if inChannels == 1 {
                for p in 0..<pixels { o[p] = Float(s[p]) / divisor }
            } else {
                // RGB in one pass over the interleaved samples.
                let red = o, green = o + pixels, blue = o + 2 * pixels
                for p in 0..<pixels {
                    red[p] = Float(s[3 * p]) / divisor
                    green[p] = Float(s[3 * p + 1]) / divisor
                    blue[p] = Float(s[3 * p + 2]) / divisor
                }
            }
        }
    }
}

extension PNGHeader {
    init(_ info: cpng_info) {
        self.init(width: Int(info.width), height: Int(info.height), bitDepth: Int(info.bit_depth),
                  colorType: ColorType(rawValue: Int(info.color_type)) ?? .gray,
                  interlaced: info.interlaced != 0, hasTransparency: info.has_trns != 0)
    }
}
