// Feature maps holding NaN and ±inf (security audit #23: `UInt8(NaN)` trapped): the exact
// bytes of 8-bit, 16-bit and montage pictures under each normalisation. The rule
// (Normalization.swift): the scale comes from the finite values; +inf → 1, −inf → 0
// (abs: 1), NaN → 0; a map that is all NaN renders as zeros.
import ConvdCore
import ConvdImage
import Testing

/// The samples of a PNG, as integers.
private func samples(_ png: [UInt8]) throws -> [Float] {
    try PNGCodec.decode(png, path: "map.png", options: DecodeOptions(scale: .raw)).scalars
}

private let mixed = Tensor(channels: 2, height: 1, width: 6,
                           scalars: [.nan, .infinity, -.infinity, 0, 0.5, 1] + [Float](repeating: .nan, count: 6))

@Suite("non-finite feature maps")
struct NonFiniteMapTests {
    @Test("8-bit maps: exact bytes per normalisation; an all-NaN map is zeros", arguments: [
        (Normalization.minmax, [Float](arrayLiteral: 0, 255, 0, 0, 128, 255)),
        (.abs, [0, 255, 255, 0, 128, 255]),
        (.clip, [0, 255, 0, 0, 128, 255]),
    ])
    func png8(normalization: Normalization, expected: [Float]) throws {
        let renderer = FeatureMapRenderer(normalization: normalization)
        #expect(try samples(renderer.png8(mixed, channel: 0)) == expected)
        #expect(try samples(renderer.png8(mixed, channel: 1)) == [Float](repeating: 0, count: 6))
    }

    @Test("16-bit maps and the montage")
    func png16AndMontage() throws {
        let renderer = FeatureMapRenderer()
        #expect(try samples(renderer.png16(mixed, channel: 0)) == [0, 65535, 0, 0, 32768, 65535])
        #expect(try samples(renderer.png16(mixed, channel: 1)) == [Float](repeating: 0, count: 6))
        // Two maps in a 2-column grid, 2 white pixels between them.
        #expect(try samples(renderer.montage(mixed)) == [0, 255, 0, 0, 128, 255, 255, 255, 0, 0, 0, 0, 0, 0])
    }

    @Test("values past 1 or below 0 without a normalisation are clamped; NaN is 0")
    func clampedWithoutScale() throws {
        let wild = Tensor(channels: 1, height: 1, width: 4, scalars: [.nan, 7, -7, .greatestFiniteMagnitude])
        #expect(try samples(FeatureMapRenderer(normalization: .clip).png8(wild, channel: 0)) == [0, 255, 0, 255])
    }
}
