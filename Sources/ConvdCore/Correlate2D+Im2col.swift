// Correlate2D+Im2col: the general path (any stride, dilation, padding, border, channel count):
// unfold the input windows into a (C·kH·kW)×(rows·outW) matrix and multiply it by the
// K×(C·kH·kW) weight matrix with OpenBLAS. Output rows are processed in bands so the unfolded
// matrix stays small (about 16 MiB) whatever the image size.

/// Correlates the C planes at `input` with K kernels of C×kH×kW weights, summing over channels:
/// `output[k] = Σ_c input[c] ⋆ weights[k][c]`, K×outH×outW.
public func correlate2DIm2col(input: UnsafePointer<Float>, channels: Int, weights: UnsafePointer<Float>,
                              kernelCount: Int, geometry: WindowGeometry, border: BorderMode,
                              output: UnsafeMutablePointer<Float>) {
    let rows = geometry.rows, cols = geometry.columns
    let patch = channels * rows.kernelSize * cols.kernelSize
    let outW = cols.outputSize, outH = rows.outputSize
    guard outW > 0, outH > 0, kernelCount > 0 else { return }
    let bandRows = max(1, min(outH, (1 << 22) / max(1, patch * outW)))
    var unfolded = [Float](repeating: 0, count: patch * bandRows * outW)
    var product = [Float](repeating: 0, count: kernelCount * bandRows * outW)
    let planeIn = rows.inputSize * cols.inputSize
    var band = 0
    while band < outH {
        let count = min(bandRows, outH - band)
        let n = count * outW
        unfolded.withUnsafeMutableBufferPointer { u in
            for c in 0..<channels {
                for a in 0..<rows.kernelSize {
                    for b in 0..<cols.kernelSize {
                        unfoldTap(plane: input + c * planeIn, geometry: geometry, border: border, tapRow: a,
                                  tapColumn: b, outputRows: band..<(band + count),
                                  into: u.baseAddress! + ((c * rows.kernelSize + a) * cols.kernelSize + b) * n)
                    }
                }
            }
        }
        unfolded.withUnsafeBufferPointer { u in
            product.withUnsafeMutableBufferPointer { p in
                gemm(m: kernelCount, n: n, k: patch, a: weights, lda: patch, b: u.baseAddress!, ldb: n,
                     c: p.baseAddress!, ldc: n)
            }
        }
        for k in 0..<kernelCount {
            let dst = output + k * outH * outW + band * outW
            product.withUnsafeBufferPointer { p in
                dst.update(from: p.baseAddress! + k * n, count: n)
            }
        }
        band += count
    }
}
