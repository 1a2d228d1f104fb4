// PNGHeader: what a PNG's IHDR (with PLTE/tRNS) says, read without decoding pixels.
/// The facts of a PNG file that decide how it decodes.
public struct PNGHeader: Sendable, Equatable {
    /// The PNG colour types.
    public enum ColorType: Int, Sendable, CaseIterable {
        case gray = 0
        case rgb = 2
        case palette = 3
        case grayAlpha = 4
        case rgba = 6
    }

    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Bits per sample in the file.
    public let bitDepth: Int
    /// Colour type in the file.
    public let colorType: ColorType
    /// Adam7 interlaced.
    public let interlaced: Bool
    /// Has a tRNS chunk.
    public let hasTransparency: Bool

    /// A header from its fields.
    public init(width: Int, height: Int, bitDepth: Int, colorType: ColorType, interlaced: Bool,
                hasTransparency: Bool) {
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.colorType = colorType
        self.interlaced = interlaced
        self.hasTransparency = hasTransparency
    }

    /// Channels convd makes of it: 1 for gray sources, 3 for colour and palette ones.
    public var tensorChannels: Int { colorType == .gray || colorType == .grayAlpha ? 1 : 3 }
}
