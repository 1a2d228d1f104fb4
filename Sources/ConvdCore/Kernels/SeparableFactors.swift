// SeparableFactors: a kernel slice of rank one, K[a][b] = column[a] · row[b], so the direct
// path can run it as a 1×kW pass and a kH×1 pass (kH + kW multiply-adds per sample instead of
// kH · kW). Gaussian and box kernels are of this form, as are Sobel and Prewitt.

/// The two 1-D factors of a rank-one kernel slice.
public struct SeparableFactors: Sendable, Equatable {
    /// kH weights, down the rows.
    public let column: [Float]
    /// kW weights, across the columns.
    public let row: [Float]

    /// Products agree with the slice to this fraction of its largest weight (about 8 float
    /// roundings of it): true outer products such as gaussian and box are well inside it, and
    /// the two passes then differ from the 2-D sum by a few roundings per tap.
    static let tolerance: Float = 1e-6

    /// The factors of slice `c` of `kernel`, or nil when the slice is not of rank one (within
    /// `tolerance`), not finite, all zero, or too small for two passes to do less work
    /// (kH · kW ≤ 2 · (kH + kW): 3×3 and smaller stay 2-D).
    public init?(_ kernel: Kernel, slice c: Int = 0) {
        let h = kernel.height, w = kernel.width
        guard h * w > 2 * (h + w) else { return nil }
        let k = Array(kernel.slice(c))
        guard let pivot = k.indices.max(by: { abs(k[$0]) < abs(k[$1]) }), k[pivot].isFinite, k[pivot] != 0
        else { return nil }
        let p = pivot / w, q = pivot % w
        let column = (0..<h).map { k[$0 * w + q] }
        let row = (0..<w).map { k[p * w + $0] / k[pivot] }
        let limit = Self.tolerance * abs(k[pivot])
        for a in 0..<h {
            for b in 0..<w {
                // Written so that NaN or infinity fails the test.
                guard abs(column[a] * row[b] - k[a * w + b]) <= limit else { return nil }
            }
        }
        self.column = column
        self.row = row
    }
}
