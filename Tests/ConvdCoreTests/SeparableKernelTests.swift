// SeparableFactors and the direct path's two-pass interior: which kernels are taken as rank
// one, and that the two passes give the 2-D reference's values on every padding, border and
// dilation, with one and several threads.
import ConvdCore
import ConvdTestSupport
import Testing

@Suite("separable kernels")
struct SeparableKernelTests {
    @Test("gaussian, box and outer products factor; 3×3, random, zero and non-finite kernels do not")
    func factors() throws {
        let gaussian = try #require(SeparableFactors(NamedKernel.gaussian(5, sigma: 1.0)))
        #expect(gaussian.column.count == 5 && gaussian.row.count == 5)
        let weights = NamedKernel.gaussian(5, sigma: 1.0).weights
        for a in 0..<5 {
            for b in 0..<5 { #expect(abs(gaussian.column[a] * gaussian.row[b] - weights[a * 5 + b]) <= 1e-7) }
        }
        // box(7): every weight 1/49; the pivot is the first, so the row factor is all ones.
        let box = try #require(SeparableFactors(NamedKernel.box(7)))
        #expect(box.row == [Float](repeating: 1, count: 7))
        #expect(box.column == [Float](repeating: 1.0 / 49, count: 7))
        // An exact outer product of integers, 3 rows by 7 columns (21 taps > 2 · 10). The pivot
        // is the largest weight, 15 at row 2, column 4: the column factor is column 4, the row
        // factor row 2 divided by 15.
        let v: [Float] = [1, 0, -1, 2, 5, -3, 4]
        let outer = Kernel(rows: [1, -2, 3].map { u in v.map { u * $0 } })
        let f = try #require(SeparableFactors(outer))
        #expect(f.column == [5, -10, 15])
        #expect(f.row == v.map { 3 * $0 / 15 })
        // Not worth two passes, or not rank one, or nothing to divide by.
        #expect(SeparableFactors(NamedKernel.sobelX.kernel) == nil)
        var generator = SeededGenerator(seed: 11)
        #expect(SeparableFactors(randomKernel(height: 5, width: 5, using: &generator)) == nil)
        #expect(SeparableFactors(Kernel(height: 5, width: 5, weights: [Float](repeating: 0, count: 25))) == nil)
        var poisoned = NamedKernel.box(5).weights
        poisoned[7] = .nan
        #expect(SeparableFactors(Kernel(height: 5, width: 5, weights: poisoned)) == nil)
        poisoned[7] = .infinity
        #expect(SeparableFactors(Kernel(height: 5, width: 5, weights: poisoned)) == nil)
    }

    @Test("rank-one kernels through the direct path equal the 2-D reference")
    func passesAgree() {
        var generator = SeededGenerator(seed: 12)
        var separable = 0
        for (kh, kw) in [(5, 5), (3, 7), (7, 3), (11, 11), (9, 1)] {
            for dilation in 1...2 {
                for padding in [Padding.valid, .same, .explicit(3)] {
                    for border in BorderMode.allCases {
                        let height = Int.random(in: 30...90, using: &generator)
                        let width = Int.random(in: 30...150, using: &generator)
                        let input = randomTensor(channels: 2, height: height, width: width, using: &generator)
                        let u = (0..<kh).map { _ in Float.random(in: -1...1, using: &generator) }
                        let v = (0..<kw).map { _ in Float.random(in: -1...1, using: &generator) }
                        let kernel = Kernel(height: kh, width: kw, weights: u.flatMap { a in v.map { a * $0 } })
                        if SeparableFactors(kernel) != nil { separable += 1 }
                        for mode in ChannelMode.allCases {
                            let conv = Convolution(kernels: [kernel], padding: padding, border: border,
                                                   dilation: dilation, mode: mode)
                            guard conv.problem(with: input.shape) == nil else { continue }
                            let reference = conv.apply(input, path: .reference)
                            for threads in [1, 2] {
                                let direct = conv.apply(input, path: .direct, threads: threads)
                                #expect(maxAbsDifference(reference.scalars, direct.scalars) <= 1e-4,
                                        "\(kh)×\(kw) d\(dilation) \(padding) \(border) \(mode) on \(height)×\(width)")
                            }
                        }
                    }
                }
            }
        }
        // 9×1 is not worth two passes (9 ≤ 20); the other four shapes are.
        #expect(separable == 4 * 2 * 3 * BorderMode.allCases.count)
    }
}
