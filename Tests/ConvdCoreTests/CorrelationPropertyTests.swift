// Properties of correlation on random inputs: the three paths agree, the operator is linear
// and shift-equivariant, true convolution is correlation with the flipped kernel, and every
// output size follows the formula of conv-semantics.md §1.
import CConvKernels
import Glibc
import ConvdCore
import ConvdTestSupport
import Testing

/// Float32 sums of up to ~100 products of values in -1...1, reordered by vectorisation or
/// GEMM blocking, agree with the reference loop to well within this.
private let pathTolerance: Float = 1e-4

@Suite("correlation properties")
struct CorrelationPropertyTests {
    @Test("direct and im2col equal the reference loop for every padding, border, stride and dilation")
    func pathsAgree() {
        var generator = SeededGenerator(seed: 1)
        var cases = 0
        for (kh, kw) in [(1, 1), (2, 2), (3, 3), (3, 5), (5, 5), (7, 3)] {
            for stride in 1...3 {
                for dilation in 1...2 {
                    for padding in [Padding.valid, .same, .explicit(2)] {
                        for border in BorderMode.allCases {
                            let height = Int.random(in: 1...40, using: &generator)
                            let width = Int.random(in: 1...70, using: &generator)
                            let input = randomTensor(channels: 2, height: height, width: width, using: &generator)
                            let kernels = [randomKernel(height: kh, width: kw, using: &generator),
                                           randomKernel(height: kh, width: kw, using: &generator)]
                            for mode in ChannelMode.allCases {
                                let conv = Convolution(kernels: kernels, padding: padding, border: border, stride: stride,
                                                       dilation: dilation, mode: mode)
                                guard conv.problem(with: input.shape) == nil else { continue }
                                let reference = conv.apply(input, path: .reference)
                                let im2col = conv.apply(input, path: .im2col)
                                #expect(maxAbsDifference(reference.scalars, im2col.scalars) <= pathTolerance)
                                if stride == 1 {
                                    let direct = conv.apply(input, path: .direct, threads: 2)
                                    #expect(direct.shape == reference.shape)
                                    #expect(maxAbsDifference(reference.scalars, direct.scalars) <= pathTolerance,
                                            "\(kh)×\(kw) d\(dilation) \(padding) \(border) on \(height)×\(width)")
                                }
                                cases += 1
                            }
                        }
                    }
                }
            }
        }
        #expect(cases > 500)
    }

    @Test("the direct path is exact against the reference on a large plane with threads")
    func directLargePlane() {
        var generator = SeededGenerator(seed: 2)
        let input = randomTensor(channels: 1, height: 131, width: 257, using: &generator)
        for size in [3, 5, 11] {
            let conv = Convolution(kernels: [randomKernel(height: size, width: size, using: &generator)], border: .reflect)
            let reference = conv.apply(input, path: .reference)
            for threads in [1, 2, 3] {
                let direct = conv.apply(input, path: .direct, threads: threads)
                #expect(maxAbsDifference(reference.scalars, direct.scalars) <= pathTolerance)
            }
        }
    }

    @Test("a large output already in memory is streamed, and equals a fresh one bit for bit and the reference")
    func streamedOutput() {
        var generator = SeededGenerator(seed: 5)
        // 1,040 × 4,096: the interior (1,038 × 4,094 floats, from column 1) is over 16 MiB.
        let height = 1040, width = 4096, count = height * width
        let input = randomTensor(channels: 1, height: height, width: width, using: &generator)
        let kernel = randomKernel(height: 3, width: 3, using: &generator)
        let geometry = WindowGeometry(height: height, width: width, kernelHeight: 3, kernelWidth: 3, padding: .same)
        // Fresh pages from the kernel, not from malloc: once other tests in this process have
        // freed large blocks, glibc raises its mmap threshold and may hand back resident heap.
        let bytes = count * MemoryLayout<Float>.size
        let mapping = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapping, mapping != MAP_FAILED else {
            Issue.record("mmap failed")
            return
        }
        defer { munmap(mapping, bytes) }
        let fresh = mapping.bindMemory(to: Float.self, capacity: count)
        var reused = [Float](repeating: .nan, count: count)
        let interior = (rows: Int32(height - 2), cols: Int32(width - 2))
        reused.withUnsafeMutableBufferPointer { out in
            #expect(convd_correlate_streams(out.baseAddress! + width + 1, width, interior.rows, interior.cols, 0) == 1)
            #expect(convd_correlate_streams(out.baseAddress! + width + 1, width, interior.rows, interior.cols, 1) == 0)
        }
        #expect(convd_correlate_streams(fresh + width + 1, width, interior.rows, interior.cols, 0) == 0,
                "a fresh allocation's last page is not in memory yet")
        input.scalars.withUnsafeBufferPointer { x in
            kernel.weights.withUnsafeBufferPointer { k in
                reused.withUnsafeMutableBufferPointer { out in
                    correlate2DDirect(input: x.baseAddress!, kernel: k.baseAddress!, geometry: geometry, border: .zero,
                                      output: out.baseAddress!, accumulate: false, threads: 1)
                }
                correlate2DDirect(input: x.baseAddress!, kernel: k.baseAddress!, geometry: geometry, border: .zero,
                                  output: fresh, accumulate: false, threads: 1)
            }
        }
        let unstreamed = Array(UnsafeBufferPointer(start: fresh, count: count))
        #expect(reused.map(\.bitPattern) == unstreamed.map(\.bitPattern))
        // Rows at the top, the middle and the bottom against the reference loop.
        let crop = Convolution(kernels: [kernel]).apply(input, path: .reference)
        for row in [0, 1, 517, height - 2, height - 1] {
            let range = (row * width)..<((row + 1) * width)
            #expect(maxAbsDifference(Array(crop.scalars[range]), Array(reused[range])) <= pathTolerance, "row \(row)")
        }
    }

    @Test("a multi-plane output is streamed as a whole, and each plane equals its cached computation bit for bit")
    func streamedPlanes() {
        var generator = SeededGenerator(seed: 6)
        // Three 1,000 × 1,920 planes: 7.3 MiB each, 22 MiB together. Only the whole output is
        // large enough to stream; rows of 1,920 keep every row's start at the same offset from
        // a vector boundary (the kernel streams only then); the 5×5 Gaussian runs as separable
        // passes.
        let height = 1000, width = 1920
        let input = randomTensor(channels: 3, height: height, width: width, using: &generator)
        let gaussian = NamedKernel.gaussian(5, sigma: 1)
        let conv = Convolution(kernels: [gaussian], padding: .same, border: .reflect)
        var output = conv.apply(input)
        conv.apply(input, into: &output)  // now resident: streamed
        output.scalars.withUnsafeBufferPointer { out in
            #expect(convd_correlate_streams(out.baseAddress!, width, Int32(3 * height), Int32(width), 0) == 1)
            #expect(convd_correlate_streams(out.baseAddress!, width, Int32(height), Int32(width), 0) == 0)
        }
        let geometry = WindowGeometry(height: height, width: width, kernelHeight: 5, kernelWidth: 5, padding: .same)
        for channel in 0..<3 {
            var cached = [Float](repeating: .nan, count: height * width)
            input.scalars.withUnsafeBufferPointer { x in
                gaussian.weights.withUnsafeBufferPointer { k in
                    cached.withUnsafeMutableBufferPointer { out in
                        correlate2DDirect(input: x.baseAddress! + channel * height * width, kernel: k.baseAddress!,
                                          geometry: geometry, border: .reflect, output: out.baseAddress!,
                                          accumulate: false, threads: 2,
                                          factors: SeparableFactors(gaussian, slice: 0), streaming: false)
                    }
                }
            }
            let plane = Array(output.scalars[(channel * height * width)..<((channel + 1) * height * width)])
            #expect(plane.map(\.bitPattern) == cached.map(\.bitPattern), "plane \(channel)")
        }
        let reference = conv.apply(input, path: .reference)
        #expect(maxAbsDifference(reference.scalars, output.scalars) <= pathTolerance)
    }

    @Test("the direct path's four-row blocks, column tails and summed channels equal the reference")
    func directBlocksAndTails() {
        var generator = SeededGenerator(seed: 7)
        // Heights around multiples of the 4-row block, widths around multiples of 2 vectors
        // (16, 32 and 64 columns for SSE2, AVX2 and AVX-512), kernels flat, tall and square —
        // among them every shape the block loop has its own unrolled copy for.
        var cases = 0
        for (kh, kw) in [(1, 1), (1, 3), (3, 1), (1, 5), (5, 1), (1, 7), (7, 1), (3, 3), (4, 2), (5, 5), (11, 11)] {
            for height in [kh, kh + 3, kh + 4, kh + 5, kh + 10] {
                for width in [kw, 15 + kw, 16 + kw, 33 + kw, 64 + kw, 65 + kw, 130] where width >= kw {
                    let input = randomTensor(channels: 3, height: height, width: width, using: &generator)
                    let kernels = [randomKernel(height: kh, width: kw, using: &generator)]
                    for (padding, mode) in [(Padding.valid, ChannelMode.sum), (.same, .perChannel), (.explicit(1), .sum)] {
                        let conv = Convolution(kernels: kernels, padding: padding, border: .replicate, mode: mode)
                        guard conv.problem(with: input.shape) == nil else { continue }
                        let reference = conv.apply(input, path: .reference)
                        for threads in [1, 3] {
                            let direct = conv.apply(input, path: .direct, threads: threads)
                            #expect(maxAbsDifference(reference.scalars, direct.scalars) <= pathTolerance,
                                    "\(kh)×\(kw) \(padding) \(mode) on \(height)×\(width), \(threads) threads")
                        }
                        cases += 1
                    }
                }
            }
        }
        #expect(cases > 600)
    }

    @Test("linearity: (αx + βy) ⋆ k = α(x ⋆ k) + β(y ⋆ k)")
    func linearity() {
        var generator = SeededGenerator(seed: 3)
        let x = randomTensor(channels: 1, height: 20, width: 23, using: &generator)
        let y = randomTensor(channels: 1, height: 20, width: 23, using: &generator)
        let conv = Convolution(kernels: [randomKernel(height: 3, width: 3, using: &generator)])
        let (alpha, beta): (Float, Float) = (1.5, -0.75)
        var mixed = x
        for i in mixed.scalars.indices { mixed.scalars[i] = alpha * x.scalars[i] + beta * y.scalars[i] }
        let left = conv.apply(mixed).scalars
        let cx = conv.apply(x).scalars, cy = conv.apply(y).scalars
        let right = (0..<left.count).map { alpha * cx[$0] + beta * cy[$0] }
        #expect(maxAbsDifference(left, right) <= 1e-5)
    }

    @Test("shift equivariance: shifting the input shifts the output, away from the borders")
    func shiftEquivariance() {
        var generator = SeededGenerator(seed: 4)
        let input = randomTensor(channels: 1, height: 30, width: 30, using: &generator)
        let (dy, dx) = (2, 3)
        var shifted = Tensor(channels: 1, height: 30, width: 30)
        for y in dy..<30 { for x in dx..<30 { shifted[0, y, x] = input[0, y - dy, x - dx] } }
        let conv = Convolution(kernels: [randomKernel(height: 5, width: 5, using: &generator)])
        let a = conv.apply(input), b = conv.apply(shifted)
        for y in (dy + 2)..<28 {
            for x in (dx + 2)..<28 {
                #expect(abs(b[0, y, x] - a[0, y - dy, x - dx]) <= 1e-5)
            }
        }
    }

    @Test("a sum-1 kernel keeps the mean of a constant-bordered image (replicate padding)")
    func meanPreserved() {
        var generator = SeededGenerator(seed: 5)
        let input = Tensor(channels: 1, height: 40, width: 40, repeating: 0.25)
        for kernel in [NamedKernel.box(3), NamedKernel.gaussian(5, sigma: 1.2), NamedKernel.box(7)] {
            let out = Convolution(kernels: [kernel], border: .replicate).apply(input)
            #expect(out.scalars.allSatisfy { abs($0 - 0.25) <= 1e-6 })
        }
        let noise = randomTensor(channels: 1, height: 40, width: 40, using: &generator)
        let blurred = Convolution(kernels: [NamedKernel.box(3)], border: .reflect).apply(noise)
        let meanIn = noise.scalars.reduce(0, +) / 1600, meanOut = blurred.scalars.reduce(0, +) / 1600
        #expect(abs(meanIn - meanOut) <= 0.01)
    }

    @Test("true convolution (flip) equals correlation with the kernel rotated by 180°")
    func flipIsRotatedCorrelation() {
        var generator = SeededGenerator(seed: 6)
        let input = randomTensor(channels: 3, height: 17, width: 19, using: &generator)
        let kernel = randomKernel(height: 3, width: 4, using: &generator)
        let convolved = Convolution(kernels: [kernel], flip: true).apply(input, path: .reference)
        let rotated = Kernel(rows: kernel.rows().reversed().map { $0.reversed() })
        let correlated = Convolution(kernels: [rotated]).apply(input, path: .reference)
        #expect(convolved == correlated)
        // And the defining sum (f*g)[n] = Σ_m f[m] g[n-m] on a 1-D case.
        let full = Convolution(kernels: [Kernel(rows: [[2, 1]])], padding: .explicit(1), flip: true)
            .apply(Tensor(rows: [[1, 2, 3]]))
        #expect(full.rows()[1] == [2, 5, 8, 3])
    }

    @Test("output size == floor((n + 2p - d(f-1) - 1)/s) + 1, and same gives ceil(n/s)")
    func outputSizeFormula() {
        for n in 1...12 {
            for f in 1...5 {
                for s in 1...3 {
                    for d in 1...3 {
                        for p in 0...3 {
                            let explicit = AxisWindow(inputSize: n, kernelSize: f, stride: s, dilation: d, padding: .explicit(p))
                            let numerator = n + 2 * p - d * (f - 1) - 1
                            #expect(explicit.outputSize == (numerator >= 0 ? numerator / s + 1 : 0))
                        }
                        let same = AxisWindow(inputSize: n, kernelSize: f, stride: s, dilation: d, padding: .same)
                        #expect(same.outputSize == (n + s - 1) / s)
                        #expect(same.padAfter - same.padBefore == 0 || same.padAfter - same.padBefore == 1)
                        let valid = AxisWindow(inputSize: n, kernelSize: f, stride: s, dilation: d, padding: .valid)
                        let span = d * (f - 1) + 1
                        #expect(valid.outputSize == (n >= span ? (n - span) / s + 1 : 0))
                    }
                }
            }
        }
    }

    @Test("reflect and replicate borders read the samples OpenCV's BORDER_REFLECT_101 and BORDER_REPLICATE do")
    func borders() {
        // abcd → reflect: dcb|abcd|cba, replicate: aaa|abcd|ddd
        #expect((-3...6).map { BorderMode.reflect.resolve($0, size: 4) } == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0])
        #expect((-3...6).map { BorderMode.replicate.resolve($0, size: 4) } == [0, 0, 0, 0, 1, 2, 3, 3, 3, 3])
        #expect(BorderMode.zero.resolve(-1, size: 4) == nil)
        #expect(BorderMode.reflect.resolve(-2, size: 1) == 0)
    }
}
