// The chain syntax of DESIGN.md §3: what parses to what, the exact error messages, shape
// checks before any image, and whole chains computed on the lecture examples.
import ConvdCore
import ConvdTestSupport
import Testing

private func parseError(_ text: String) -> String? {
    do {
        _ = try FilterChain(parsing: text)
        return nil
    } catch {
        return error.description
    }
}

@Suite("filter chains")
struct FilterChainTests {
    @Test("the DESIGN.md example parses into the steps it names")
    func designExample() throws {
        let chain = try FilterChain(parsing:
            "gray | gaussian(5, 1.0) | conv(sobel-x, sobel-y; padding=same) | magnitude | relu | maxpool(2)")
        #expect(chain.entries.map(\.text) == ["gray", "gaussian(5, 1.0)", "conv(sobel-x, sobel-y; padding=same)",
                                              "magnitude", "relu", "maxpool(2)"])
        #expect(chain.entries[0].step == .gray)
        #expect(chain.entries[1].step == .convolution(Convolution(kernels: [NamedKernel.gaussian(5, sigma: 1)])))
        #expect(chain.entries[2].step == .convolution(Convolution(kernels: [NamedKernel.sobelX.kernel,
                                                                             NamedKernel.sobelY.kernel])))
        #expect(chain.entries[5].step == .pool(Pooling(kind: .max, window: 2)))
        #expect(try chain.outputShape(for: TensorShape(channels: 3, height: 100, width: 61))
                == TensorShape(channels: 1, height: 50, width: 30))
    }

    @Test("every option and step form parses")
    func allForms() throws {
        let chain = try FilterChain(parsing: """
            rgb | conv([[1,0,-1],[2,0,-2],[1,0,-1]], box(3); padding=valid, border=reflect, stride=2, dilation=1, \
            mode=sum, flip=true) | leaky_relu(0.2) | sigmoid | tanh | abs | avgpool(3, 2; padding=same) | \
            sobel-x(padding=1, border=replicate) | conv1x1(0.5, 0.5) | normalize(abs) | global_maxpool
            """)
        #expect(chain.entries.count == 11)
        let conv = Convolution(kernels: [Kernel(rows: [[1, 0, -1], [2, 0, -2], [1, 0, -1]]), NamedKernel.box(3)],
                               padding: .valid, border: .reflect, stride: 2, dilation: 1, mode: .sum, flip: true)
        #expect(chain.entries[1].step == .convolution(conv))
        #expect(chain.entries[2].step == .activation(.leakyRelu(0.2)))
        #expect(chain.entries[6].step == .pool(Pooling(kind: .average, window: 3, stride: 2, padding: .same)))
        #expect(chain.entries[7].step == .convolution(Convolution(kernels: [NamedKernel.sobelX.kernel],
                                                                  padding: .explicit(1), border: .replicate)))
        #expect(try chain.outputShape(for: TensorShape(channels: 1, height: 21, width: 21))
                == TensorShape(channels: 1, height: 1, width: 1))
    }

    @Test("error messages name the step and the problem", arguments: [
        ("gray | gaussian(5, 1.0) | conv(sobel-q)",
         "step 3 \"conv(sobel-q)\": unknown kernel \"sobel-q\" (did you mean \"sobel-x\"?)"),
        ("gray | sobelx", "step 2 \"sobelx\": unknown step \"sobelx\" (did you mean \"sobel-x\"?)"),
        ("gray | conv(sobel-x", "step 2 \"conv(sobel-x\": missing \")\""),
        ("conv(sobel-x; strid=2)", "step 1 \"conv(sobel-x; strid=2)\": unknown option \"strid\" (did you mean \"stride\"?)"),
        ("conv(sobel-x; padding=half)", "step 1 \"conv(sobel-x; padding=half)\": padding must be valid, same or a whole number of pixels"),
        ("conv(sobel-x; border=wrap)", "step 1 \"conv(sobel-x; border=wrap)\": border must be one of zero, replicate, reflect, not \"wrap\""),
        ("maxpool(0)", "step 1 \"maxpool(0)\": maxpool window must be a whole number from 1 to 1025, got 0"),
        ("gaussian(5, -1)", "step 1 \"gaussian(5, -1)\": sigma must be positive, got -1"),
        ("conv(sobel-x, roberts-x)", "step 1 \"conv(sobel-x, roberts-x)\": kernels differ in size (3×3 and 2×2); use one conv step per size"),
        ("conv([[1,2],[3]])", "step 1 \"conv([[1,2],[3]])\": matrix rows differ in length or are empty"),
        ("gray || relu", "step 2 \"\": empty step"),
        ("", "empty chain"),
        ("relu(2)", "step 1 \"relu(2)\": relu takes no arguments"),
        ("gray relu", "step 1 \"gray relu\": unexpected \"relu\" after the step (steps are separated by \"|\")"),
        ("conv(sobel-x; stride=1.5)", "step 1 \"conv(sobel-x; stride=1.5)\": stride must be a whole number from 1 to 65536, got 1.5"),
        ("normalize(unit)", "step 1 \"normalize(unit)\": takes one of minmax, abs, clip"),
        ("conv(1e400)", "step 1 \"conv(1e400)\": \"1e400\" is not a number"),
        // Finite as a Double, infinite as a Float: the map would be NaN at every zero-padded edge.
        ("conv([[1e39, 1], [1, 1]])",
         "step 1 \"conv([[1e39, 1], [1, 1]])\": kernel weight 1e+39 is beyond the range of a 32-bit float (±3.4e38)"),
        ("conv1x1(1, -4e38, 1)", "step 1 \"conv1x1(1, -4e38, 1)\": weight -4e+38 is beyond the range of a 32-bit float (±3.4e38)"),
    ])
    func errors(text: String, message: String) {
        #expect(parseError(text) == message)
    }

    @Test("shape problems name the step and the input shape")
    func shapeErrors() throws {
        let pool = try FilterChain(parsing: "gray | maxpool(8)")
        #expect(throws: ChainError(step: 2, text: "maxpool(8)", message:
            "a 8×8 window does not fit a 5×5 input: the output would be 0×0 (input 1×5×5)")) {
            try pool.outputShape(for: TensorShape(channels: 3, height: 5, width: 5))
        }
        let weights = try FilterChain(parsing: "conv1x1(-1, 2, 3)")
        #expect(throws: ChainError(step: 1, text: "conv1x1(-1, 2, 3)", message: "3 weights for 1 input channels (input 1×9×9)")) {
            try weights.outputShape(for: TensorShape(channels: 1, height: 9, width: 9))
        }
        try weights.checkForImages()  // fits a 3-channel image
        let deep = try FilterChain(parsing: "gray | conv([[[1]],[[2]]])")
        #expect(throws: ChainError.self) { try deep.checkForImages() }
        let big = try FilterChain(parsing: "conv(box(9); padding=valid)")
        #expect(throws: ChainError(step: 1, text: "conv(box(9); padding=valid)", message:
            "a 9×9 kernel (dilation 1, padding valid) does not fit a 4×4 input: the output would be 0×0 (input 1×4×4)")) {
            try big.outputShape(for: TensorShape(channels: 1, height: 4, width: 4))
        }
    }

    @Test("the lecture's 6×6 example as a chain: two kernels, valid padding, 4×4×2")
    func lectureChain() throws {
        let chain = try FilterChain(parsing:
            "conv([[1,-1,-1],[-1,1,-1],[-1,-1,1]], [[-1,1,-1],[-1,1,-1],[-1,1,-1]]; padding=valid)")
        let out = try chain.apply(Tensor(rows: lectureImage6x6))
        #expect(out.rows(channel: 0) == [[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]])
        #expect(out.rows(channel: 1) == [[-1, -1, -1, -1], [-1, -1, -2, 1], [-1, -1, -2, 1], [-1, 0, -4, 3]])
        let pooled = try FilterChain(parsing: "conv([[1,-1,-1],[-1,1,-1],[-1,-1,1]]; padding=valid) | maxpool(2)")
            .apply(Tensor(rows: lectureImage6x6))
        #expect(pooled.rows() == [[3, 0], [3, 1]])
    }

    @Test("per-channel mode keeps kernel-major maps; sum mode adds the channels")
    func channelModes() throws {
        let rgb = Tensor(planes: [[[1, 2], [3, 4]], [[10, 20], [30, 40]], [[100, 200], [300, 400]]])
        let perChannel = try FilterChain(parsing: "conv(identity, [[0,0,0],[0,2,0],[0,0,0]])").apply(rgb)
        #expect(perChannel.channels == 6)
        #expect(perChannel.plane(4).scalars == [20, 40, 60, 80])
        let summed = try FilterChain(parsing: "conv(identity; mode=sum)").apply(rgb)
        #expect(summed.scalars == [111, 222, 333, 444])
    }
}

@Suite("pooling, activations and channel operators")
struct OperatorTests {
    @Test("max and average pooling with stride and padding")
    func pooling() {
        let x = Tensor(rows: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]])
        #expect(Pooling(kind: .max, window: 2).apply(x).rows() == [[6, 8], [14, 16]])
        #expect(Pooling(kind: .average, window: 2).apply(x).rows() == [[3.5, 5.5], [11.5, 13.5]])
        #expect(Pooling(kind: .max, window: 3, stride: 1).apply(x).rows() == [[11, 12], [15, 16]])
        // same padding: 4 → 2 outputs with window 3 stride 2, one pad at the bottom/right; pads are skipped.
        #expect(Pooling(kind: .average, window: 3, stride: 2, padding: .same).apply(x).rows() == [[6, 7.5], [12, 13.5]])
        #expect(Pooling.global(.max, x).scalars == [16])
        #expect(Pooling.global(.average, x).scalars == [8.5])
    }

    @Test("activations at known points")
    func activations() {
        let x = Tensor(rows: [[-2, 0, 3]])
        #expect(Activation.relu.apply(x).scalars == [0, 0, 3])
        #expect(Activation.leakyRelu(0.1).apply(x).scalars == [-0.2, 0, 3])
        #expect(Activation.abs.apply(x).scalars == [2, 0, 3])
        #expect(Activation.sigmoid(0) == 0.5)
        #expect(abs(Activation.tanh(1) - 0.7615942) < 1e-6)
    }

    @Test("gray uses BT.601 weights, magnitude is sqrt(gx² + gy²), normalisations")
    func channelOps() {
        let rgb = Tensor(planes: [[[1]], [[0]], [[0]]])
        #expect(ChannelOps.gray(rgb).scalars == [0.299])
        #expect(ChannelOps.rgb(Tensor(rows: [[0.5]])).scalars == [0.5, 0.5, 0.5])
        #expect(ChannelOps.magnitude(Tensor(planes: [[[3]], [[4]]])).scalars == [5])
        let maps = Tensor(rows: [[-2, 0, 2, 6]])
        #expect(Normalization.minmax.apply(maps).scalars == [0, 0.25, 0.5, 1])
        #expect(Normalization.abs.apply(maps).scalars == [2.0 / 6, 0, 2.0 / 6, 1])
        #expect(Normalization.clip.apply(maps).scalars == [0, 0, 1, 1])
        #expect(Normalization.minmax.apply(Tensor(rows: [[3, 3]])).scalars == [0, 0])
    }

    @Test("gray, magnitude and 1×1 convolution split over threads equal one thread, bit for bit")
    func channelOpsThreads() {
        var generator = SeededGenerator(seed: 11)
        // 397 × 511 = 202,867 pixels: three shares of 65,536 and more, none a multiple of the block.
        let rgb = randomTensor(channels: 3, height: 397, width: 511, using: &generator)
        let one = (ChannelOps.gray(rgb).scalars, ChannelOps.magnitude(rgb).scalars,
                   ChannelOps.conv1x1(rgb, weights: [0.5, -1, 2]).scalars)
        for threads in [2, 3, 4] {
            #expect(ChannelOps.gray(rgb, threads: threads).scalars.map(\.bitPattern) == one.0.map(\.bitPattern))
            #expect(ChannelOps.magnitude(rgb, threads: threads).scalars.map(\.bitPattern) == one.1.map(\.bitPattern))
            #expect(ChannelOps.conv1x1(rgb, weights: [0.5, -1, 2], threads: threads).scalars.map(\.bitPattern)
                    == one.2.map(\.bitPattern))
        }
        #expect(ChannelOps.magnitude(Tensor(planes: [[[3]], [[4]]]), threads: 2).scalars == [5])
    }

    @Test("gray, magnitude and 1×1 convolution equal their step-by-step sums from 0, bit for bit")
    func channelOpsDefinition() {
        var generator = SeededGenerator(seed: 12)
        // 2,049 × 3 pixels: a whole block and a tail; −0 and a negative zero product among them.
        for channels in [1, 2, 3, 5] {
            var input = randomTensor(channels: channels, height: 3, width: 2049, using: &generator)
            for c in 0..<channels { input.scalars[c * input.planeSize + 7] = -0.0 }
            let weights = (0..<channels).map { _ in Float.random(in: -2...2, using: &generator) }
            var sum = [Float](repeating: 0, count: input.planeSize)
            var squares = [Float](repeating: 0, count: input.planeSize)
            for i in 0..<input.planeSize {
                var s: Float = 0, q: Float = 0
                for c in 0..<channels {
                    let x = input.scalars[c * input.planeSize + i]
                    s = s + weights[c] * x
                    q = q + x * x
                }
                sum[i] = s
                squares[i] = q.squareRoot()
            }
            #expect(ChannelOps.conv1x1(input, weights: weights).scalars.map(\.bitPattern) == sum.map(\.bitPattern),
                    "\(channels) channels")
            #expect(ChannelOps.magnitude(input).scalars.map(\.bitPattern) == squares.map(\.bitPattern),
                    "\(channels) channels")
            #expect(ChannelOps.conv1x1(input, weights: weights).scalars[7].bitPattern == Float(0).bitPattern)
        }
    }

    @Test("named kernels: the matrices of conv-semantics.md §4; gaussian is symmetric and sums to 1")
    func namedKernels() {
        #expect(NamedKernel.sobelX.kernel.rows() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
        #expect(NamedKernel.sobelY.kernel.rows() == [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
        #expect(NamedKernel.edge.kernel.rows() == [[1, 1, 1], [1, -8, 1], [1, 1, 1]])
        #expect(NamedKernel.robertsX.kernel.rows() == [[0, 1], [-1, 0]])
        #expect(NamedKernel.horizontalEdge.kernel.rows() == [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
        let g = NamedKernel.gaussian(5, sigma: 1)
        #expect(abs(g.sum - 1) < 1e-6)
        #expect(g.weights == g.weights.reversed())
        #expect(abs(g.weights[12] - 0.16210282) < 1e-7)  // centre of the normalised 5×5, σ = 1
    }
}
