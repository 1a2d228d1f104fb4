// The worked examples of conv-semantics.md §5, each asserted exactly and through every
// convolution path (reference, direct, im2col) where the path applies.
import ConvdCore
import ConvdTestSupport
import Testing

/// Correlates a single plane through every path that supports the geometry and checks they
/// agree exactly (small integers are exact in float32 whatever the order of summation).
private func correlateAllPaths(_ input: [[Float]], _ kernel: [[Float]], geometry: WindowGeometry,
                               border: BorderMode = .zero) -> [Float] {
    let flat = input.flatMap { $0 }, k = kernel.flatMap { $0 }
    let reference = correlate2DReference(flat, kernel: k, geometry: geometry, border: border)
    var im2col = [Float](repeating: .nan, count: reference.count)
    flat.withUnsafeBufferPointer { i in
        k.withUnsafeBufferPointer { w in
            im2col.withUnsafeMutableBufferPointer { o in
                correlate2DIm2col(input: i.baseAddress!, channels: 1, weights: w.baseAddress!, kernelCount: 1,
                                  geometry: geometry, border: border, output: o.baseAddress!)
            }
        }
    }
    #expect(im2col == reference, "im2col differs from the reference loop")
    if geometry.rows.stride == 1 && geometry.columns.stride == 1 && geometry.rows.dilation == geometry.columns.dilation {
        var direct = [Float](repeating: .nan, count: reference.count)
        flat.withUnsafeBufferPointer { i in
            k.withUnsafeBufferPointer { w in
                direct.withUnsafeMutableBufferPointer { o in
                    correlate2DDirect(input: i.baseAddress!, kernel: w.baseAddress!, geometry: geometry, border: border,
                                      output: o.baseAddress!, accumulate: false, threads: 2)
                }
            }
        }
        #expect(direct == reference, "direct differs from the reference loop")
    }
    return reference
}

/// A 1-D signal as a 1×n plane, with `pad` zeros on each side of the row only.
private func oneD(_ signal: [Float], _ kernel: [Float], pad: Int) -> [Float] {
    let geometry = WindowGeometry(
        rows: AxisWindow(inputSize: 1, kernelSize: 1, padding: .valid),
        columns: AxisWindow(inputSize: signal.count, kernelSize: kernel.count, padding: .explicit(pad)))
    return correlateAllPaths([signal], [kernel], geometry: geometry)
}

private func valid(_ input: [[Float]], _ kernel: [[Float]], stride: Int = 1, dilation: Int = 1) -> [[Float]] {
    let g = WindowGeometry(height: input.count, width: input[0].count, kernelHeight: kernel.count,
                           kernelWidth: kernel[0].count, stride: stride, dilation: dilation, padding: .valid)
    let flat = correlateAllPaths(input, kernel, geometry: g)
    return (0..<g.outputHeight).map { Array(flat[($0 * g.outputWidth)..<(($0 + 1) * g.outputWidth)]) }
}

let lectureImage6x6: [[Float]] = [
    [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 1, 0], [0, 0, 1, 1, 0, 0],
    [1, 0, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0],
]
let lectureK1: [[Float]] = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]]
let lectureK2: [[Float]] = [[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]]

@Suite("conv-semantics.md §5 worked examples")
struct WorkedExampleTests {
    @Test("§5.1 1-D full convolution [1,2,3] * [2,1] = [2,5,8,3], valid part [5,8]")
    func example1() {
        // True convolution is correlation with the flipped kernel; "full" pads f-1 on each side.
        let flipped = Kernel(rows: [[2, 1]]).flipped.weights
        #expect(oneD([1, 2, 3], flipped, pad: 1) == [2, 5, 8, 3])
        #expect(oneD([1, 2, 3], flipped, pad: 0) == [5, 8])
    }

    @Test("§5.2 1-D correlation with [1,0,-1]: valid [2,2,2], same [-3,2,2,2,1]")
    func example2() {
        #expect(oneD([1, 3, -1, 1, -3], [1, 0, -1], pad: 0) == [2, 2, 2])
        #expect(oneD([1, 3, -1, 1, -3], [1, 0, -1], pad: 1) == [-3, 2, 2, 2, 1])
    }

    @Test("§5.3 [1,2,-2,0,3] ⋆ [1,2,3] = [-1,-2,7], also as the product W·x")
    func example3() {
        #expect(oneD([1, 2, -2, 0, 3], [1, 2, 3], pad: 0) == [-1, -2, 7])
        let w: [Float] = [1, 2, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 1, 2, 3]
        let x: [Float] = [1, 2, -2, 0, 3]
        var y = [Float](repeating: 0, count: 3)
        gemm(m: 3, n: 1, k: 5, a: w, lda: 5, b: x, ldb: 1, c: &y, ldc: 1)
        #expect(y == [-1, -2, 7])
        #expect(Set(w.filter { $0 != 0 }).count == 3, "3 free parameters")
    }

    @Test("§5.4 2×2 kernel [1,.5;.5,1] on a 3×3 image → [4,4;4,3], sum 15")
    func example4() {
        let out = valid([[1, 2, 1], [2, 1, 1], [1, 1, 1]], [[1, 0.5], [0.5, 1]])
        #expect(out == [[4, 4], [4, 3]])
        #expect(out.flatMap { $0 }.reduce(0, +) == 15)
    }

    @Test("§5.5 5×5 image, 3×3 kernel → [25,18,17;18,22,14;20,15,23]")
    func example5() {
        let image: [[Float]] = [[3, 5, 2, 8, 1], [9, 7, 5, 4, 3], [2, 0, 6, 1, 6], [6, 3, 7, 9, 2], [1, 4, 9, 5, 1]]
        #expect(valid(image, [[1, 0, 0], [1, 1, 0], [0, 0, 1]]) == [[25, 18, 17], [18, 22, 14], [20, 15, 23]])
    }

    @Test("§5.6 6×6 binary image: K1 stride 1 and 2, K2, a 4×4×2 bank, 2×2 max pooling")
    func example6() throws {
        #expect(valid(lectureImage6x6, lectureK1)
                == [[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]])
        #expect(valid(lectureImage6x6, lectureK1, stride: 2) == [[3, -3], [-3, 0]])
        #expect(valid(lectureImage6x6, lectureK2)
                == [[-1, -1, -1, -1], [-1, -1, -2, 1], [-1, -1, -2, 1], [-1, 0, -4, 3]])
        let bank = Convolution(kernels: [Kernel(rows: lectureK1), Kernel(rows: lectureK2)], padding: .valid)
        for path in [ConvolutionPath.reference, .direct, .im2col] {
            let maps = bank.apply(Tensor(rows: lectureImage6x6), path: path)
            #expect(maps.shape == TensorShape(channels: 2, height: 4, width: 4))
            #expect(maps.rows(channel: 1)[3] == [-1, 0, -4, 3])
        }
        let k1Map = Convolution(kernels: [Kernel(rows: lectureK1)], padding: .valid).apply(Tensor(rows: lectureImage6x6))
        #expect(Pooling(kind: .max, window: 2).apply(k1Map).rows() == [[3, 0], [3, 1]])
    }

    @Test("§5.7 vertical-edge kernel → [19,0,-19;38,0,-38;0,0,0]")
    func example7() {
        let image: [[Float]] = [[1, 20, 20, 20, 1], [20, 1, 1, 1, 20], [20, 1, 1, 1, 20], [1, 20, 1, 20, 1],
                                [1, 1, 20, 1, 1]]
        #expect(valid(image, NamedKernel.verticalEdge.kernel.rows()) == [[19, 0, -19], [38, 0, -38], [0, 0, 0]])
    }

    @Test("§5.8 dilation 2: a 2×2 kernel on 5×5 gives 3×3, first row starting -47, -32")
    func example8() {
        let image: [[Float]] = [[1, 9, 5, -2, 4], [2, 8, 6, 5, 2], [3, 7, -5, -3, 0], [2, 3, 8, 1, 8], [8, 0, 9, -4, 2]]
        let out = valid(image, [[2, 1], [-3, 9]], dilation: 2)
        #expect(out.count == 3 && out.allSatisfy { $0.count == 3 })
        #expect(Array(out[0].prefix(2)) == [-47, -32])
    }

    @Test("§5.9 RGB 4×4×3 with a 2×2×3 kernel: top-left 5 + 7 + 37 = 49, output 3×3×1")
    func example9() {
        let r: [[Float]] = [[1, 9, 5, -2], [2, 8, 6, 5], [3, 7, -5, -3], [2, 3, 8, 1]]
        let g: [[Float]] = [[2, 1, 9, 0], [-3, 0, -7, 3], [3, 7, 1, 2], [4, 2, 0, 1]]
        let b: [[Float]] = [[6, 4, 2, 1], [-2, 3, 9, -2], [7, 7, 3, 2], [3, 8, 7, 2]]
        let kr: [[Float]] = [[0, 1], [2, -1]], kg: [[Float]] = [[2, 3], [0, 2]], kb: [[Float]] = [[4, 2], [-1, 1]]
        #expect(valid(r, kr)[0][0] == 5)
        #expect(valid(g, kg)[0][0] == 7)
        #expect(valid(b, kb)[0][0] == 37)
        let conv = Convolution(kernels: [Kernel(slices: [kr, kg, kb])], padding: .valid)
        for path in [ConvolutionPath.reference, .direct, .im2col] {
            let out = conv.apply(Tensor(planes: [r, g, b]), path: path)
            #expect(out.shape == TensorShape(channels: 1, height: 3, width: 3))
            #expect(out[0, 0, 0] == 49)
        }
    }

    @Test("§5.10 1×1 convolution with weights (-1,2,3): (-8,9,7) → 47, (5,6,10) → 37")
    func example10() {
        let maps = Tensor(planes: [[[-8, 5]], [[9, 6]], [[7, 10]]])
        #expect(ChannelOps.conv1x1(maps, weights: [-1, 2, 3]).scalars == [47, 37])
        let asKernel = Convolution(kernels: [Kernel(slices: [[[-1]], [[2]], [[3]]])], padding: .valid)
        #expect(asKernel.apply(maps).scalars == [47, 37])
    }

    @Test("§5.11 parameter counts: an 11×11 filter has 121 weights; 3×8×8 → 5 filters 3×3×3 → 5×6×6, 135 weights")
    func example11() {
        #expect(NamedKernel.box(11).weights.count == 121)
        var generator = SeededGenerator(seed: 11)
        let bank = Convolution(kernels: (0..<5).map { _ in randomKernel(depth: 3, height: 3, width: 3, using: &generator) },
                               padding: .valid)
        #expect(bank.outputShape(for: TensorShape(channels: 3, height: 8, width: 8))
                == TensorShape(channels: 5, height: 6, width: 6))
        #expect(bank.kernels.reduce(0) { $0 + $1.weights.count } == 135)
        #expect(1000 * 1000 * 1000 * 1000 == 1_000_000_000_000, "fully connected 10^6 → 10^6")
    }

    @Test("§5.12 a sum-1 kernel keeps total brightness away from the edges",
          arguments: ["box(3)", "box(5)", "gaussian(5, 1.0)", "gaussian(7, 2.0)"])
    func example12(kernelText: String) throws {
        let chain = try FilterChain(parsing: kernelText)
        guard case .convolution(let conv) = chain.entries[0].step else { Issue.record("not a conv"); return }
        let kernel = conv.kernels[0]
        var generator = SeededGenerator(seed: 12)
        // Content in the middle, a zero margin wider than the kernel radius all round.
        var image = Tensor(channels: 1, height: 32, width: 32)
        for y in 8..<24 { for x in 8..<24 { image[0, y, x] = Float.random(in: 0...1, using: &generator) } }
        let before = image.scalars.reduce(0, +)
        for border in BorderMode.allCases {
            let after = Convolution(kernels: [kernel], border: border).apply(image).scalars.reduce(0, +)
            #expect(abs(after - before) < 1e-3, "border \(border.rawValue): \(before) → \(after)")
        }
        #expect(abs(kernel.sum - 1) < 1e-6)
    }
}
