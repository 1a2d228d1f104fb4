// ImageLimits: the size checks made before any pixel buffer is allocated.

/// Largest accepted input, checked from the file size and the PNG header.
public struct ImageLimits: Sendable, Equatable {
    /// Largest width × height (default 50 Mpixel).
    public var maxPixels: Int
    /// Largest file size in bytes (default 64 MiB).
    public var maxFileBytes: Int

    /// The defaults of DESIGN.md §5: 50,000,000 pixels and 67,108,864 bytes.
    public static let `default` = ImageLimits(maxPixels: 50_000_000, maxFileBytes: 64 << 20)

    /// Limits with the given bounds.
    public init(maxPixels: Int, maxFileBytes: Int) {
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
    }
}
