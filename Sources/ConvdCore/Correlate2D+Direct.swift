// Correlate2D+Direct: the fast path for image filters (few channels, large planes, small
// kernels, stride 1). The interior, where every tap is inside the input, goes to the
// vectorised C loop (CConvKernels); the thin border, where taps read padding, is summed
// here tap by tap. Output rows are split over threads.
import CConvKernels

/// The instruction set the direct path uses on this CPU ("avx512f", "avx2+fma", "sse2").
public var directKernelInstructionSet: String { String(cString: convd_kernel_isa()) }

/// Stride-1 correlation of one plane into `output` (overwritten, or added to with `accumulate`).
/// - Precondition: `geometry` has stride 1.
public func correlate2DDirect(input: UnsafePointer<Float>, kernel: UnsafePointer<Float>,
                              geometry: WindowGeometry, border: BorderMode,
                              output: UnsafeMutablePointer<Float>, accumulate: Bool, threads: Int) {
    let rows = geometry.rows, cols = geometry.columns
    precondition(rows.stride == 1 && cols.stride == 1, "the direct path needs stride 1")
    precondition(rows.dilation == cols.dilation, "the direct path needs one dilation for both axes")
    let interiorRows = rows.interior, interiorCols = cols.interior
    let out = SharedPointer(output)
    let inputAddress = SharedReadPointer(input), kernelAddress = SharedReadPointer(kernel)
    parallelFor(rows.outputSize, threads: threads) { range in
        let input = inputAddress.pointer, kernel = kernelAddress.pointer
        let output = out.pointer
        // Interior rows: C for the interior columns, taps one by one for the few columns at the edges.
        let inner = range.clamped(to: interiorRows)
        if !inner.isEmpty && !interiorCols.isEmpty {
            let y0 = inner.lowerBound - rows.padBefore, x0 = interiorCols.lowerBound - cols.padBefore
            convd_correlate_rows(input + y0 * cols.inputSize + x0, cols.inputSize,
                                 output + inner.lowerBound * cols.outputSize + interiorCols.lowerBound,
                                 cols.outputSize, Int32(inner.count), Int32(interiorCols.count), kernel,
                                 Int32(rows.kernelSize), Int32(cols.kernelSize), Int32(rows.dilation),
                                 accumulate ? 1 : 0)
        }
        for i in range {
            let columnsDone: Range<Int> = inner.contains(i) ? interiorCols : 0..<0
            for j in 0..<cols.outputSize where !columnsDone.contains(j) {
                let sum = windowSum(input: input, kernel: kernel, geometry: geometry, border: border, i: i, j: j)
                output[i * cols.outputSize + j] = accumulate ? output[i * cols.outputSize + j] + sum : sum
            }
        }
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
