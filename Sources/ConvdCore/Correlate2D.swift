// Correlate2D: the plain reference loop for one plane, written straight from
// conv-semantics.md §1: S[i,j] = Σ_a Σ_b I[i*s + a*d, j*s + b*d] · K[a,b] over the padded
// input. It is the test oracle for the direct (Correlate2D+Direct.swift) and im2col
// (Correlate2D+Im2col.swift) paths, and is never used for speed.

/// Cross-correlates one plane with one kernel slice, reading padding through `border`.
/// - Parameters:
///   - input: `geometry.rows.inputSize × geometry.columns.inputSize` samples, row-major.
///   - kernel: `kH×kW` weights, row-major.
/// - Returns: `outputHeight × outputWidth` samples, row-major.
public func correlate2DReference(_ input: [Float], kernel: [Float], geometry: WindowGeometry,
                                 border: BorderMode) -> [Float] {
    let rows = geometry.rows, cols = geometry.columns
    precondition(input.count == rows.inputSize * cols.inputSize, "input does not match geometry")
    precondition(kernel.count == rows.kernelSize * cols.kernelSize, "kernel does not match geometry")
    var out = [Float](repeating: 0, count: rows.outputSize * cols.outputSize)
    for i in 0..<rows.outputSize {
        for j in 0..<cols.outputSize {
            var sum: Float = 0
            for a in 0..<rows.kernelSize {
                guard let y = border.resolve(rows.inputIndex(output: i, tap: a), size: rows.inputSize)
                else { continue }
                for b in 0..<cols.kernelSize {
                    guard let x = border.resolve(cols.inputIndex(output: j, tap: b), size: cols.inputSize)
                    else { continue }
                    sum += input[y * cols.inputSize + x] * kernel[a * cols.kernelSize + b]
                }
            }
            out[i * cols.outputSize + j] = sum
        }
    }
    return out
}
