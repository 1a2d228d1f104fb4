// Kernel: the weights of one filter, kH×kW (2-D, applied to each channel or summed over
// channels) or C×kH×kW (3-D, one slice per input channel, always summed: conv-semantics.md §2).

/// One filter's weights, row-major: `weights[(c * height + a) * width + b]`.
public struct Kernel: Sendable, Equatable {
    /// Slices: 1 for a 2-D kernel, the input's channel count for a 3-D one.
    public let depth: Int
    /// Rows.
    public let height: Int
    /// Columns.
    public let width: Int
    /// Weights in depth×height×width order.
    public let weights: [Float]

    /// A kernel from its weights; the count must match the shape.
    public init(depth: Int = 1, height: Int, width: Int, weights: [Float]) {
        precondition(depth >= 1 && height >= 1 && width >= 1, "kernel dimensions must be positive")
        precondition(weights.count == depth * height * width, "weight count does not match kernel shape")
        self.depth = depth
        self.height = height
        self.width = width
        self.weights = weights
    }

    /// A 2-D kernel from rows (top to bottom).
    public init(rows: [[Float]]) {
        self.init(height: rows.count, width: rows.first?.count ?? 0, weights: rows.flatMap { $0 })
    }

    /// A 3-D kernel from one matrix per input channel.
    public init(slices: [[[Float]]]) {
        let height = slices.first?.count ?? 0
        let width = slices.first?.first?.count ?? 0
        self.init(depth: slices.count, height: height, width: width,
                  weights: slices.flatMap { $0.flatMap { $0 } })
    }

    /// Slice `c` (kH×kW weights).
    public func slice(_ c: Int) -> ArraySlice<Float> {
        weights[(c * height * width)..<((c + 1) * height * width)]
    }

    /// The kernel rotated by 180° in every slice: true convolution is correlation with this.
    public var flipped: Kernel {
        var out: [Float] = []
        out.reserveCapacity(weights.count)
        for c in 0..<depth {
            out.append(contentsOf: slice(c).reversed())
        }
        return Kernel(depth: depth, height: height, width: width, weights: out)
    }

    /// Sum of all weights (1 for smoothing kernels).
    public var sum: Float { weights.reduce(0, +) }

    /// Slice `c` as rows, for printing.
    public func rows(slice c: Int = 0) -> [[Float]] {
        (0..<height).map { a in (0..<width).map { b in weights[(c * height + a) * width + b] } }
    }
}
