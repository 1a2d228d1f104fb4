// Normalization with values that are not finite (security audit #23): the scale comes from
// the finite values only; +inf → 1, −inf → 0 (abs: 1), NaN → 0; a finite range that itself
// overflows Float still maps to 0...1.
import ConvdCore
import Testing

@Suite("normalisation of non-finite values")
struct NormalizationTests {
    private let map = Tensor(channels: 1, height: 1, width: 6, scalars: [.nan, .infinity, -.infinity, -2, 0, 2])

    @Test("minmax, abs and clip", arguments: [
        (Normalization.minmax, [Float](arrayLiteral: 0, 1, 0, 0, 0.5, 1)),
        (.abs, [0, 1, 1, 1, 0, 1]),
        (.clip, [0, 1, 0, 0, 0, 1]),
    ])
    func rules(normalization: Normalization, expected: [Float]) {
        #expect(normalization.apply(map).scalars == expected)
    }

    @Test("an all-NaN map becomes zeros; a range of ±3e38 still spans 0...1")
    func edges() {
        let nan = Tensor(channels: 1, height: 1, width: 3, repeating: .nan)
        for n in Normalization.allCases { #expect(n.apply(nan).scalars == [0, 0, 0]) }
        let wide = Tensor(channels: 1, height: 1, width: 3, scalars: [-3e38, 0, 3e38])
        #expect(Normalization.minmax.apply(wide).scalars == [0, 0.5, 1])
    }

    @Test("a chain's normalize step follows the same rule")
    func chainStep() throws {
        let chain = try FilterChain(parsing: "normalize(minmax)")
        #expect(try chain.apply(map).scalars == [0, 1, 0, 0, 0.5, 1])
    }
}
