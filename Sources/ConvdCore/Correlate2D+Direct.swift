// Correlate2D+Direct: the fast path for image filters (few channels, large planes, small
// kernels, stride 1). The interior, where every tap is inside the input, goes straight to the
// vectorised C loop (CConvKernels). The thin edges, where taps read padding, are gathered with
// their border samples into a small padded buffer and run through the same C loop, so no
// per-pixel branch is paid anywhere. Output rows are split over threads.
import CConvKernels

/// The instruction set the direct path uses on this CPU ("avx512f", "avx2+fma", "sse2").
public var directKernelInstructionSet: String { String(cString: convd_kernel_isa()) }

/// Stride-1 correlation of one plane into `output` (overwritten, or added to with `accumulate`).
/// With `factors` (the kernel's rank-one form) the interior runs as a row pass and a column
/// pass over bands that stay in cache; the edges always use the 2-D kernel. `streaming` says
/// whether the interior's results may bypass the cache (`convd_correlate_streams`, which a
/// caller writing several planes asks once for its whole output); nil asks it for this plane.
/// - Precondition: `geometry` has stride 1.
public func correlate2DDirect(input: UnsafePointer<Float>, kernel: UnsafePointer<Float>,
                              geometry: WindowGeometry, border: BorderMode,
                              output: UnsafeMutablePointer<Float>, accumulate: Bool, threads: Int,
                              factors: SeparableFactors? = nil, streaming: Bool? = nil) {
    let rows = geometry.rows, cols = geometry.columns
    precondition(rows.stride == 1 && cols.stride == 1, "the direct path needs stride 1")
    precondition(rows.dilation == cols.dilation, "the direct path needs one dilation for both axes")
    let interiorRows = rows.interior, interiorCols = cols.interior
    let stream: Int32 = accumulate ? 0 : streaming.map { $0 ? 1 : 0 } ?? convd_correlate_streams(
        output + interiorRows.lowerBound * cols.outputSize + interiorCols.lowerBound, cols.outputSize,
        Int32(interiorRows.count), Int32(interiorCols.count), 0)
    let out = SharedPointer(output)
    let inputAddress = SharedReadPointer(input), kernelAddress = SharedReadPointer(kernel)
    parallelFor(rows.outputSize, threads: threads) { range in
        let input = inputAddress.pointer, kernel = kernelAddress.pointer
        let output = out.pointer
        var edges = EdgeGatherer(input: input, kernel: kernel, geometry: geometry, border: border,
                                 output: output, accumulate: accumulate)
        let inner = interiorCols.isEmpty ? range.lowerBound..<range.lowerBound : range.clamped(to: interiorRows)
        if !inner.isEmpty {
            let y0 = inner.lowerBound - rows.padBefore, x0 = interiorCols.lowerBound - cols.padBefore
            let source = input + y0 * cols.inputSize + x0
            let target = output + inner.lowerBound * cols.outputSize + interiorCols.lowerBound
            let separated = factors.map {
                separablePasses(source: source, target: target, rows: inner.count, columns: interiorCols.count,
                                factors: $0, geometry: geometry, accumulate: accumulate, stream: stream)
            } ?? false
            if !separated {
                convd_correlate_rows(source, cols.inputSize, target, cols.outputSize, Int32(inner.count),
                                     Int32(interiorCols.count), kernel, Int32(rows.kernelSize),
                                     Int32(cols.kernelSize), Int32(rows.dilation), accumulate ? 1 : 0, stream)
            }
            edges.run(rows: inner, columns: 0..<interiorCols.lowerBound)
            edges.run(rows: inner, columns: interiorCols.upperBound..<cols.outputSize)
        }
        // Whole rows above and below the interior (or every row, when no column is interior).
        let above = range.lowerBound..<(inner.isEmpty ? range.upperBound : inner.lowerBound)
        let below = (inner.isEmpty ? range.upperBound : inner.upperBound)..<range.upperBound
        edges.run(rows: above, columns: 0..<cols.outputSize)
        edges.run(rows: below, columns: 0..<cols.outputSize)
    }
}

/// Samples each of the direct path's two band buffers (the separable passes' and the edge
/// gatherer's) may hold: 512 KiB, so 1 MiB per thread, inside JobMemory's overhead.
private let bandScratchLimit = 1 << 17

/// Columns in one AVX-512 vector: bands narrower than this are computed this wide.
private let vectorColumns = 16

/// The interior as a 1×kW pass into a band buffer and a kH×1 pass from it into `target`, band
/// by band. Returns false, having done nothing, when a band of 8 rows with its window would not
/// fit the buffer (a very wide image with a very tall kernel): the caller then runs the 2-D loop.
private func separablePasses(source: UnsafePointer<Float>, target: UnsafeMutablePointer<Float>, rows: Int,
                             columns: Int, factors: SeparableFactors, geometry: WindowGeometry,
                             accumulate: Bool, stream: Int32) -> Bool {
    let r = geometry.rows, c = geometry.columns
    let span = r.dilation * (r.kernelSize - 1)
    // Each band's row pass also computes the `span` rows the next band needs again: below 8
    // rows per band (a very tall kernel on a wide image) that costs more than it saves.
    guard (8 + span) * columns <= bandScratchLimit else { return false }
    let band = min(32, bandScratchLimit / columns - span)
    var scratch = [Float](unsafeUninitializedCapacity: (band + span) * columns) { _, count in
        count = (band + span) * columns
    }
    scratch.withUnsafeMutableBufferPointer { buffer in
        factors.row.withUnsafeBufferPointer { row in
            factors.column.withUnsafeBufferPointer { column in
                let middle = buffer.baseAddress!
                for start in stride(from: 0, to: rows, by: band) {
                    let n = min(band, rows - start)
                    convd_correlate_rows(source + start * c.inputSize, c.inputSize, middle, columns,
                                         Int32(n + span), Int32(columns), row.baseAddress!, 1,
                                         Int32(c.kernelSize), Int32(c.dilation), 0, 0)
                    convd_correlate_rows(middle, columns, target + start * c.outputSize, c.outputSize,
                                         Int32(n), Int32(columns), column.baseAddress!, Int32(r.kernelSize), 1,
                                         Int32(r.dilation), accumulate ? 1 : 0, stream)
                }
            }
        }
    }
    return true
}

/// Computes output rectangles whose windows read padding: the input samples they read (border
/// samples resolved, zeros for `zero`) are copied into a padded buffer in bands small enough to
/// stay in cache, and the C loop runs over the buffer as if it were interior.
private struct EdgeGatherer {
    let input: UnsafePointer<Float>
    let kernel: UnsafePointer<Float>
    let geometry: WindowGeometry
    let border: BorderMode
    let output: UnsafeMutablePointer<Float>
    let accumulate: Bool
    /// The padded buffer, at most `bandScratchLimit` samples, reused band after band; a window
    /// too large for a band falls back to summing tap by tap.
    var scratch: [Float] = []
    /// A widened band's results, before its first columns are kept.
    var results: [Float] = []

    mutating func run(rows: Range<Int>, columns: Range<Int>) {
        guard !rows.isEmpty && !columns.isEmpty else { return }
        let r = geometry.rows, c = geometry.columns
        let spanRows = r.dilation * (r.kernelSize - 1), spanCols = c.dilation * (c.kernelSize - 1)
        // Bands of up to 16 rows by up to 1024 columns, fewer rows and columns if the window is large.
        let bandRows = max(1, min(16, rows.count, bandScratchLimit / (1 + spanCols) - spanRows))
        let bandCols = min(1024, columns.count)
        guard (bandRows + spanRows) * (1 + spanCols) <= bandScratchLimit else {
            for i in rows { for j in columns { store(windowSum(input: input, kernel: kernel, geometry: geometry,
                                                                border: border, i: i, j: j), i, j) } }
            return
        }
        let widest = max(1, min(bandCols, bandScratchLimit / (bandRows + spanRows) - spanCols))
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: bandRows) {
            let i1 = min(i0 + bandRows, rows.upperBound)
            for j0 in stride(from: columns.lowerBound, to: columns.upperBound, by: widest) {
                band(rows: i0..<i1, columns: j0..<min(j0 + widest, columns.upperBound),
                     spanRows: spanRows, spanCols: spanCols)
            }
        }
    }

    private mutating func band(rows: Range<Int>, columns: Range<Int>, spanRows: Int, spanCols: Int) {
        let r = geometry.rows, c = geometry.columns
        // A band narrower than one vector (the 2-column side edges of a 5×5 kernel) would take
        // the C loop's scalar tail, a multiply-add per tap and pixel: it is widened to a whole
        // vector of samples instead, computed into `results`, and its first columns kept.
        let widened = columns.count < vectorColumns
            && (rows.count + spanRows) * (vectorColumns + spanCols) <= bandScratchLimit
        let computed = widened ? vectorColumns : columns.count
        let height = rows.count + spanRows, width = computed + spanCols
        if scratch.count < height * width { scratch = [Float](repeating: 0, count: height * width) }
        if widened && results.count < rows.count * computed {
            results = [Float](repeating: 0, count: rows.count * computed)
        }
        let firstRow = rows.lowerBound - r.padBefore, firstCol = columns.lowerBound - c.padBefore
        let input = self.input, border = self.border
        let target = output + rows.lowerBound * c.outputSize + columns.lowerBound
        scratch.withUnsafeMutableBufferPointer { buffer in
            let padded = buffer.baseAddress!
            for y in 0..<height {
                let line = padded + y * width
                guard let sourceRow = border.resolve(firstRow + y, size: r.inputSize) else {
                    line.update(repeating: 0, count: width)
                    continue
                }
                let source = input + sourceRow * c.inputSize
                // The columns inside the input are one copy; only those outside are resolved.
                let insideFrom = max(0, -firstCol)
                let inside = insideFrom..<max(insideFrom, min(width, c.inputSize - firstCol))
                line.advanced(by: inside.lowerBound).update(from: source + firstCol + inside.lowerBound,
                                                            count: inside.count)
                for x in 0..<width where !inside.contains(x) {
                    line[x] = border.resolve(firstCol + x, size: c.inputSize).map { source[$0] } ?? 0
                }
            }
            guard widened else {
                convd_correlate_rows(padded, width, target, c.outputSize, Int32(rows.count), Int32(columns.count),
                                     kernel, Int32(r.kernelSize), Int32(c.kernelSize), Int32(r.dilation),
                                     accumulate ? 1 : 0, 0)
                return
            }
            results.withUnsafeMutableBufferPointer { out in
                let sums = out.baseAddress!
                convd_correlate_rows(padded, width, sums, computed, Int32(rows.count), Int32(computed), kernel,
                                     Int32(r.kernelSize), Int32(c.kernelSize), Int32(r.dilation), 0, 0)
                for y in 0..<rows.count {
                    let row = target + y * c.outputSize, sum = sums + y * computed
                    for x in 0..<columns.count { row[x] = accumulate ? row[x] + sum[x] : sum[x] }
                }
            }
        }
    }

    private func store(_ sum: Float, _ i: Int, _ j: Int) {
        let index = i * geometry.columns.outputSize + j
        output[index] = accumulate ? output[index] + sum : sum
    }
}

/// The correlation at one output position, reading padding through `border`.
@inline(__always)
func windowSum(input: UnsafePointer<Float>, kernel: UnsafePointer<Float>, geometry: WindowGeometry,
               border: BorderMode, i: Int, j: Int) -> Float {
    let rows = geometry.rows, cols = geometry.columns
    var sum: Float = 0
    for a in 0..<rows.kernelSize {
        guard let y = border.resolve(rows.inputIndex(output: i, tap: a), size: rows.inputSize) else { continue }
        for b in 0..<cols.kernelSize {
            guard let x = border.resolve(cols.inputIndex(output: j, tap: b), size: cols.inputSize) else { continue }
            sum += input[y * cols.inputSize + x] * kernel[a * cols.kernelSize + b]
        }
    }
    return sum
}
