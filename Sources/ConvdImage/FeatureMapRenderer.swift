// FeatureMapRenderer: feature maps → pictures. Each map is normalised on its own (minmax by
// default) and quantised to 8 or 16 bits; a montage puts all maps of a tensor in a grid, in
// order, left to right and top to bottom, separated by thin white lines. Non-finite values
// never trap (security audit #23): the normalisation gives them 0 or 1 (Normalization.swift),
// and quantising sends NaN to 0 and clamps ±inf, whatever normalisation ran before.
import ConvdCore

/// Turns feature maps into gray PNG bytes.
public struct FeatureMapRenderer: Sendable {
    /// How each map is rescaled to 0...1 before quantising.
    public var normalization: Normalization
    /// zlib level for the PNGs.
    public var compressionLevel: Int
    /// Width of the lines between montage tiles, in pixels.
    public static let separator = 2

    /// A renderer with the given normalisation and zlib level.
    public init(normalization: Normalization = .minmax, compressionLevel: Int = 6) {
        self.normalization = normalization
        self.compressionLevel = compressionLevel
    }

    /// Map `channel` of `maps` as an 8-bit gray PNG.
    public func png8(_ maps: Tensor, channel: Int) throws(ImageError) -> [UInt8] {
        let values = normalization.apply(maps.plane(channel)).scalars
        return try PNGCodec.encode(values.map(Self.quantise8), width: maps.width, height: maps.height,
                                   channels: 1, level: compressionLevel)
    }

    /// Map `channel` of `maps` as a 16-bit gray PNG.
    public func png16(_ maps: Tensor, channel: Int) throws(ImageError) -> [UInt8] {
        let values = normalization.apply(maps.plane(channel)).scalars
        return try PNGCodec.encode16(values.map(Self.quantise16), width: maps.width,
                                     height: maps.height, channels: 1, level: compressionLevel)
    }

    /// The grid of tiles for `count` maps: about square, wider than tall.
    public static func grid(count: Int) -> (rows: Int, columns: Int) {
        var columns = 1
        while columns * columns < count { columns += 1 }
        return ((count + columns - 1) / columns, columns)
    }

    /// All maps of `maps` in one 8-bit gray picture (see `grid(count:)`).
    public func montage(_ maps: Tensor) throws(ImageError) -> [UInt8] {
        let (gridRows, gridColumns) = Self.grid(count: maps.channels)
        let gap = Self.separator
        let width = gridColumns * maps.width + (gridColumns - 1) * gap
        let height = gridRows * maps.height + (gridRows - 1) * gap
        var pixels = [UInt8](repeating: 255, count: width * height)
        let normalised = normalization.apply(maps)
        for c in 0..<maps.channels {
            let top = (c / gridColumns) * (maps.height + gap), left = (c % gridColumns) * (maps.width + gap)
            for y in 0..<maps.height {
                for x in 0..<maps.width {
                    pixels[(top + y) * width + left + x] = Self.quantise8(normalised[c, y, x])
                }
            }
            if c == maps.channels - 1 {
                // Tiles after the last map stay black, so the grid's end is visible.
                for empty in (c + 1)..<(gridRows * gridColumns) {
                    let t = (empty / gridColumns) * (maps.height + gap), l = (empty % gridColumns) * (maps.width + gap)
                    for y in 0..<maps.height {
                        for x in 0..<maps.width { pixels[(t + y) * width + l + x] = 0 }
                    }
                }
            }
        }
        return try PNGCodec.encode(pixels, width: width, height: height, channels: 1, level: compressionLevel)
    }

    /// 0...1 → 0...255; NaN → 0, anything outside clamped.
    @inline(__always)
    static func quantise8(_ value: Float) -> UInt8 {
        value.isNaN ? 0 : UInt8((min(max(value, 0), 1) * 255).rounded())
    }

    /// 0...1 → 0...65535; NaN → 0, anything outside clamped.
    @inline(__always)
    static func quantise16(_ value: Float) -> UInt16 {
        value.isNaN ? 0 : UInt16((min(max(value, 0), 1) * 65535).rounded())
    }
}
