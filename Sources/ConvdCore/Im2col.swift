// Im2col: one row of an unfolded input — the samples that one kernel tap reads for a band of
// output rows. The one unfold loop behind the chains' im2col path (Correlate2D+Im2col.swift)
// and ConvdNet's Conv2DLayer, which calls it once per (channel, tap, sample). A zero border,
// the layers' and the common chains' case, runs CConvKernels' plain loops.
import CConvKernels

extension AxisWindow {
    /// The outputs whose tap `tap` reads inside the input (the others read padding).
    @inline(__always)
    public func insideOutputs(tap: Int) -> Range<Int> {
        var lo = 0, hi = outputSize
        while lo < hi && inputIndex(output: lo, tap: tap) < 0 { lo += 1 }
        while hi > lo && inputIndex(output: hi - 1, tap: tap) >= inputSize { hi -= 1 }
        return lo..<hi
    }
}

/// Writes what tap (`a`, `b`) of the window reads from `plane` for each output row in
/// `outputRows` and every output column into `destination`, `outputRows.count × outputWidth`
/// values row after row: the sample, the border's sample in the padding, or 0 with `zero`.
/// Inside the input a stride-1 row is one copy loop.
@inline(__always)
public func unfoldTap(plane: UnsafePointer<Float>, geometry: WindowGeometry, border: BorderMode, tapRow a: Int,
                      tapColumn b: Int, outputRows: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
    let rows = geometry.rows, cols = geometry.columns
    let ow = cols.outputSize, width = cols.inputSize
    if border == .zero {
        convd_unfold_tap_zero(plane, Int32(rows.inputSize), Int32(width), Int32(outputRows.lowerBound),
                              Int32(outputRows.upperBound), Int32(ow), Int32(rows.stride), Int32(cols.stride),
                              Int32(a * rows.dilation - rows.padBefore), Int32(b * cols.dilation - cols.padBefore),
                              destination)
        return
    }
    let inside = cols.insideOutputs(tap: b)
    for (k, oy) in outputRows.enumerated() {
        let dst = destination + k * ow
        guard let iy = border.resolve(rows.inputIndex(output: oy, tap: a), size: rows.inputSize) else {
            dst.update(repeating: 0, count: ow)
            continue
        }
        let src = plane + iy * width
        // The columns that read padding, left and right of the inside ones.
        func padding(_ columns: Range<Int>) {
            for ox in columns { dst[ox] = border.resolve(cols.inputIndex(output: ox, tap: b), size: width).map { src[$0] } ?? 0 }
        }
        padding(0..<inside.lowerBound)
        padding(inside.upperBound..<ow)
        guard !inside.isEmpty else { continue }
        if cols.stride == 1 {
            // A plain loop: rows are short (a CNN's maps), where a memmove call costs more than the copy.
            let from = src + cols.inputIndex(output: inside.lowerBound, tap: b), to = dst + inside.lowerBound
            for i in 0..<inside.count { to[i] = from[i] }
        } else {
            for ox in inside { dst[ox] = src[cols.inputIndex(output: ox, tap: b)] }
        }
    }
}
