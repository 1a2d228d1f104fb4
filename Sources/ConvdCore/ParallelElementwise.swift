// ParallelElementwise: an element-wise pass over a long array split across threads, for the
// layers whose work is one read and one write per value (ReLU, the residual add, their
// gradients). Memory-bound passes pay for a second thread only on long arrays, so short ones
// stay on the calling thread; each chunk starts on a 16-value boundary, so chunks never write
// into one cache line and the vector loops keep their full width.

/// Values each thread must get before a pass is split.
public let parallelElementwiseMinimum = 1 << 15

/// Runs `body` over `0..<count` in at most `threads` contiguous chunks, in parallel when each
/// chunk gets at least `parallelElementwiseMinimum` values.
public func parallelElementwise(_ count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let vectors = (count + 15) / 16
    let chunks = max(1, min(threads, count / parallelElementwiseMinimum))
    parallelFor(chunks, threads: chunks) { range in
        for chunk in range {
            let lower = min(count, vectors * chunk / chunks * 16)
            let upper = min(count, vectors * (chunk + 1) / chunks * 16)
            if lower < upper { body(lower..<upper) }
        }
    }
}
