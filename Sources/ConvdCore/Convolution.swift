// Convolution: a bank of kernels applied to a C×H×W tensor (conv-semantics.md §1–2).
// `perChannel` applies each 2-D kernel to every channel separately (K·C maps, kernel-major);
// `sum` sums the per-channel correlations (K maps); a 3-D kernel (depth C) is always summed.
// `flip` turns correlation into true convolution. The three execution paths compute the same
// values; `automatic` takes the direct path for stride 1 and im2col + GEMM otherwise (the
// reference loops when im2col's smallest band would be huge: `automaticPath`).

import CConvKernels

/// How a 2-D kernel combines the channels of its input.
public enum ChannelMode: String, Sendable, CaseIterable {
    /// Each channel filtered on its own: C maps per kernel.
    case perChannel = "per_channel"
    /// Channel results summed: one map per kernel.
    case sum
}

/// Which implementation computes a convolution.
public enum ConvolutionPath: Sendable, CaseIterable {
    /// Direct for stride 1, im2col + GEMM otherwise (see `Convolution.automaticPath`).
    case automatic
    /// The plain loops of `correlate2DReference`: the test oracle.
    case reference
    /// The vectorised direct path (stride 1 only).
    case direct
    /// im2col + `cblas_sgemm`.
    case im2col
}

/// A bank of K kernels with its window parameters.
public struct Convolution: Sendable, Equatable {
    /// The kernels; all share one height and width.
    public var kernels: [Kernel]
    /// Padding on each side.
    public var padding: Padding
    /// What padded taps read.
    public var border: BorderMode
    /// Step between windows.
    public var stride: Int
    /// Spacing between taps.
    public var dilation: Int
    /// How 2-D kernels treat several channels.
    public var mode: ChannelMode
    /// True convolution (kernel rotated 180°) instead of correlation.
    public var flip: Bool

    /// A convolution with the chain defaults: `same` zero padding, stride 1, per-channel, no flip.
    public init(kernels: [Kernel], padding: Padding = .same, border: BorderMode = .zero, stride: Int = 1,
                dilation: Int = 1, mode: ChannelMode = .perChannel, flip: Bool = false) {
        precondition(!kernels.isEmpty, "a convolution needs at least one kernel")
        self.kernels = kernels
        self.padding = padding
        self.border = border
        self.stride = stride
        self.dilation = dilation
        self.mode = mode
        self.flip = flip
    }

    /// The window over an input of `height×width`.
    public func geometry(height: Int, width: Int) -> WindowGeometry {
        WindowGeometry(height: height, width: width, kernelHeight: kernels[0].height,
                       kernelWidth: kernels[0].width, stride: stride, dilation: dilation, padding: padding)
    }

    /// Why this convolution cannot take an input of `shape`, or nil if it can.
    public func problem(with shape: TensorShape) -> String? {
        let first = kernels[0]
        if let odd = kernels.first(where: { $0.height != first.height || $0.width != first.width }) {
            return "kernels differ in size (\(first.height)×\(first.width) and \(odd.height)×\(odd.width))"
        }
        if let deep = kernels.first(where: { $0.depth > 1 && $0.depth != shape.channels }) {
            return "a \(deep.depth)-slice kernel needs \(deep.depth) input channels, the input has \(shape.channels)"
        }
        let g = geometry(height: shape.height, width: shape.width)
        if g.outputHeight == 0 || g.outputWidth == 0 {
            return "a \(first.height)×\(first.width) kernel (dilation \(dilation), padding \(padding)) "
                + "does not fit a \(shape.height)×\(shape.width) input: the output would be "
                + "\(g.outputHeight)×\(g.outputWidth)"
        }
        return nil
    }

    /// Output maps for an input of `channels` channels.
    public func outputChannels(inputChannels channels: Int) -> Int {
        kernels.reduce(0) { $0 + ($1.depth == 1 && mode == .perChannel ? channels : 1) }
    }

    /// The output shape for an input of `shape` (assumes `problem(with:)` is nil).
    public func outputShape(for shape: TensorShape) -> TensorShape {
        let g = geometry(height: shape.height, width: shape.width)
        return TensorShape(channels: outputChannels(inputChannels: shape.channels),
                           height: g.outputHeight, width: g.outputWidth)
    }

    /// Applies the bank to `input`.
    /// - Precondition: `problem(with: input.shape)` is nil.
    public func apply(_ input: Tensor, path: ConvolutionPath = .automatic, threads: Int = 1) -> Tensor {
        // Every path overwrites each output sample before any accumulation, so no zero fill.
        var output = Tensor.uninitialized(outputShape(for: input.shape))
        apply(input, into: &output, path: path, threads: threads)
        return output
    }

    /// Applies the bank to `input`, writing into `output`, whose storage is reused when it
    /// already has the output shape (a loop over same-sized images allocates nothing).
    /// - Precondition: `problem(with: input.shape)` is nil.
    public func apply(_ input: Tensor, into output: inout Tensor, path: ConvolutionPath = .automatic,
                      threads: Int = 1) {
        precondition(problem(with: input.shape) == nil, problem(with: input.shape) ?? "")
        let g = geometry(height: input.height, width: input.width)
        let bank = flip ? kernels.map(\.flipped) : kernels
        let shape = outputShape(for: input.shape)
        if output.shape != shape { output = .uninitialized(shape) }
        let chosen = path == .automatic ? automaticPath(geometry: g, channels: input.channels) : path
        precondition(chosen != .direct || stride == 1, "the direct path needs stride 1")
        let planeOut = shape.height * shape.width
        // Whether the direct path may stream: decided once over the whole output (its planes
        // are contiguous), as the next step finds none of it in the cache when it is large.
        let streaming = output.scalars.withUnsafeBufferPointer { out in
            out.baseAddress.map {
                convd_correlate_streams($0, shape.width, Int32(clamping: shape.channels * shape.height),
                                        Int32(clamping: shape.width), 0) == 1
            } ?? false
        }
        var map = 0
        for kernel in bank {
            let perChannel = kernel.depth == 1 && mode == .perChannel
            // Each output map is a list of (input channel, kernel slice) terms, summed.
            let groups: [[(channel: Int, slice: Int)]] = perChannel
                ? (0..<input.channels).map { [($0, 0)] }
                : [(0..<input.channels).map { ($0, kernel.depth == 1 ? 0 : $0) }]
            for terms in groups {
                output.scalars.withUnsafeMutableBufferPointer { o in
                    let dst = o.baseAddress! + map * planeOut
                    compute(terms: terms, kernel: kernel, input: input, geometry: g, path: chosen,
                            threads: threads, streaming: streaming, output: dst)
                }
                map += 1
            }
        }
    }

    /// The path `automatic` takes: direct for stride 1, else im2col + GEMM, unless one output
    /// row of the unfolded input (C·kH·kW × outW values, the smallest band im2col makes) would
    /// pass 2^24 values: then the reference loops, which allocate only a plane. (A 1025×1025
    /// kernel with stride 2 on a 4096-wide image would otherwise unfold 8 GiB.)
    public func automaticPath(geometry g: WindowGeometry, channels: Int) -> ConvolutionPath {
        guard stride != 1 else { return .direct }
        let band = CheckedSize.product(channels, kernels[0].height, kernels[0].width, g.outputWidth)
        return band.map { $0 <= 1 << 24 } == true ? .im2col : .reference
    }

    private func compute(terms: [(channel: Int, slice: Int)], kernel: Kernel, input: Tensor,
                         geometry g: WindowGeometry, path: ConvolutionPath, threads: Int, streaming: Bool,
                         output: UnsafeMutablePointer<Float>) {
        let plane = input.planeSize
        let count = g.outputHeight * g.outputWidth
        switch path {
        case .automatic, .reference:
            for (index, term) in terms.enumerated() {
                let start = term.channel * plane
                let result = correlate2DReference(Array(input.scalars[start..<(start + plane)]),
                                                  kernel: Array(kernel.slice(term.slice)),
                                                  geometry: g, border: border)
                for i in 0..<count { output[i] = index == 0 ? result[i] : output[i] + result[i] }
            }
        case .direct:
            input.scalars.withUnsafeBufferPointer { inBuf in
                kernel.weights.withUnsafeBufferPointer { kBuf in
                    let sliceSize = kernel.height * kernel.width
                    for (index, term) in terms.enumerated() {
                        correlate2DDirect(input: inBuf.baseAddress! + term.channel * plane,
                                          kernel: kBuf.baseAddress! + term.slice * sliceSize, geometry: g,
                                          border: border, output: output, accumulate: index > 0, threads: threads,
                                          factors: SeparableFactors(kernel, slice: term.slice),
                                          streaming: streaming)
                    }
                }
            }
        case .im2col:
            // One GEMM over the channels the terms use, with their slices as one C'×kH×kW kernel.
            let channels = terms.map(\.channel)
            var planes: [Float] = []
            var weights: [Float] = []
            for term in terms {
                let start = term.channel * plane
                planes.append(contentsOf: input.scalars[start..<(start + plane)])
                weights.append(contentsOf: kernel.slice(term.slice))
            }
            planes.withUnsafeBufferPointer { p in
                weights.withUnsafeBufferPointer { w in
                    correlate2DIm2col(input: p.baseAddress!, channels: channels.count, weights: w.baseAddress!,
                                      kernelCount: 1, geometry: g, border: border, output: output)
                }
            }
        }
    }
}
