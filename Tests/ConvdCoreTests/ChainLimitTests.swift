// ChainLimits (security audit #15): nesting, step count, kernel sizes, windows and padding are
// refused at parse time with a message naming the operator and the limit; tensors a chain
// would make past maxElements are refused by the shape check; a huge strided kernel takes
// the reference path instead of unfolding gigabytes.
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

@Suite("chain limits")
struct ChainLimitTests {
    @Test("100,000 nested [ or ( are a one-line error, not a stack overflow; 64 levels are allowed")
    func nesting() throws {
        let brackets = parseError("conv(" + String(repeating: "[", count: 100_000))
        #expect(brackets?.hasSuffix(": parentheses and brackets nest more than 64 levels deep") == true, "\(brackets ?? "")")
        #expect((brackets?.count ?? 0) < 200, "the step text is cut in the message")
        #expect(brackets?.contains("\n") == false)
        let calls = parseError(String(repeating: "gaussian(", count: 100_000))
        #expect(calls?.hasSuffix("nest more than 64 levels deep") == true, "\(calls ?? "")")
        // conv( is level 1, so 63 brackets reach level 64: parsed, then refused as a kernel.
        let deepest = parseError("conv(" + String(repeating: "[", count: 63) + "1" + String(repeating: "]", count: 63) + ")")
        #expect(deepest?.contains("nest more than") == false, "\(deepest ?? "")")
        let over = parseError("conv(" + String(repeating: "[", count: 64) + "1" + String(repeating: "]", count: 64) + ")")
        #expect(over?.contains("nest more than 64 levels deep") == true)
    }

    @Test("kernel sizes, pooling windows and padding name the operator and the limit", arguments: [
        ("box(65536)", "step 1 \"box(65536)\": box size must be a whole number from 1 to 1025, got 65536"),
        ("gaussian(65536, 1)", "step 1 \"gaussian(65536, 1)\": gaussian size must be a whole number from 1 to 1025, got 65536"),
        ("conv(box(1026))", "step 1 \"conv(box(1026))\": box size must be a whole number from 1 to 1025, got 1026"),
        ("maxpool(2000)", "step 1 \"maxpool(2000)\": maxpool window must be a whole number from 1 to 1025, got 2000"),
        ("avgpool(2, 70000)", "step 1 \"avgpool(2, 70000)\": avgpool stride must be a whole number from 1 to 65536, got 70000"),
        ("sobel-x(padding=65536)", "step 1 \"sobel-x(padding=65536)\": padding 65536 is over the limit of 1024 pixels"),
        ("conv(sobel-x; dilation=65537)", "step 1 \"conv(sobel-x; dilation=65537)\": dilation must be a whole number from 1 to 65536, got 65537"),
    ])
    func sizes(text: String, message: String) {
        #expect(parseError(text) == message)
    }

    @Test("the largest allowed sizes parse")
    func largestAllowed() throws {
        let chain = try FilterChain(parsing: "box(1025) | gaussian(1025, 100) | maxpool(1025) | sobel-x(padding=1024)")
        #expect(chain.entries.count == 4)
        #expect(try chain.outputShape(for: TensorShape(channels: 1, height: 2050, width: 1025))
                == TensorShape(channels: 1, height: 2048, width: 2047))
    }

    @Test("a matrix kernel wider than 1025 is refused")
    func matrixKernel() {
        let row = Array(repeating: "0", count: 1026).joined(separator: ",")
        #expect(parseError("conv([[\(row)]])")?.hasSuffix(": a 1×1026 matrix kernel is over the limit of 1025×1025") == true)
    }

    @Test("256 steps parse; 257 are refused")
    func steps() throws {
        #expect(try FilterChain(parsing: Array(repeating: "relu", count: 256).joined(separator: " | ")).entries.count == 256)
        #expect(parseError(Array(repeating: "relu", count: 257).joined(separator: " | "))
                == "the chain has 257 steps, over the limit of 256")
    }

    @Test("a tensor past 2^30 values is refused by the shape check, before any image is read")
    func elements() throws {
        // Each per-channel bank of 100 kernels multiplies the maps by 100: 10^10 by step 5.
        let bank = "conv(" + Array(repeating: "sobel-x", count: 100).joined(separator: ", ") + ")"
        let wide = try FilterChain(parsing: "gray | " + Array(repeating: bank, count: 5).joined(separator: " | "))
        do {
            _ = try wide.shapes(for: TensorShape(channels: 1, height: 8, width: 8))
            Issue.record("expected the element limit")
        } catch {
            #expect(error.step == 5)
            #expect(error.message == "the output 100000000×8×8 has 6400000000 values, over the limit of 1073741824 "
                    + "(input 1000000×8×8)")
        }
        // A 3×3 kernel padded by 1024 grows a 1×1 input by 2046 per step: past 2^30 values at step 17.
        let padded = try FilterChain(parsing: Array(repeating: "identity(padding=1024)", count: 256).joined(separator: " | "))
        let side = 1 + 2046 * 17
        do {
            _ = try padded.shapes(for: TensorShape(channels: 1, height: 1, width: 1))
            Issue.record("expected the element limit")
        } catch {
            #expect(error.step == 17)
            #expect(error.message.hasPrefix("the output 1×\(side)×\(side) has \(side * side) values, over the limit of 1073741824"))
        }
        #expect(throws: ChainError(step: nil, text: nil, message: "the input 3×40000×40000 is over the limit of 1073741824 values")) {
            try FilterChain(parsing: "gray").shapes(for: TensorShape(channels: 3, height: 40000, width: 40000))
        }
    }

    @Test("a huge kernel with stride 2 takes the reference path (im2col would unfold 8 GiB); small ones keep theirs")
    func automaticPath() throws {
        let geometry = { (conv: Convolution) in conv.geometry(height: 64, width: 4096) }
        let huge = Convolution(kernels: [NamedKernel.box(1025)], stride: 2)
        #expect(huge.automaticPath(geometry: geometry(huge), channels: 1) == .reference)
        let small = Convolution(kernels: [NamedKernel.sobelX.kernel], stride: 2)
        #expect(small.automaticPath(geometry: geometry(small), channels: 3) == .im2col)
        let unit = Convolution(kernels: [NamedKernel.box(1025)])
        #expect(unit.automaticPath(geometry: geometry(unit), channels: 1) == .direct)
        // The reference path gives the same values as im2col on a case both can run.
        let input = Tensor(channels: 1, height: 9, width: 9, scalars: (0..<81).map { Float($0 % 7) })
        let strided = Convolution(kernels: [NamedKernel.gaussian(5, sigma: 1)], stride: 2)
        #expect(maxAbsDifference(strided.apply(input, path: .reference).scalars,
                                 strided.apply(input, path: .im2col).scalars) < 1e-5)
    }
}
