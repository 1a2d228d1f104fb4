// Conv2DLayer+Im2col: unfolding a C×N×H×W batch into (C·kH·kW)×(N·OH·OW) columns (ConvdCore's
// unfoldTap, as the chains' im2col path) and folding column gradients back, with zero padding. A 1×1, stride-1, unpadded layer needs neither:
// its columns are the input itself.
import ConvdCore

extension Conv2DLayer {
    /// Whether the input already is the column matrix.
    var isPointwise: Bool {
        size == 1 && rows.stride == 1 && columns.stride == 1 && rows.padBefore == 0 && columns.padBefore == 0
    }

    /// im2col into `cols` (resized as needed, every element written, so its storage is reused
    /// from batch to batch): row (c, a, b), column (n, oy, ox) holds
    /// x[c, n, oy·s − p + a·d, ox·s − p + b·d], or 0 in the padding.
    func unfold(_ input: BatchTensor, into cols: inout [Float], threads: Int) {
        if isPointwise {
            cols = input.data
            return
        }
        let n = input.batch, oh = rows.outputSize, ow = columns.outputSize
        let width = input.width, height = input.height
        let columnsCount = n * oh * ow
        if cols.count != patchSize * columnsCount {
            cols = [Float](repeating: 0, count: patchSize * columnsCount)
        }
        let (rows, columns, size) = (rows, columns, size)
        let geometry = WindowGeometry(rows: rows, columns: columns)
        input.data.withUnsafeBufferPointer { xBuffer in
            cols.withUnsafeMutableBufferPointer { colsBuffer in
                let x = SharedReadPointer(xBuffer.baseAddress!), out = SharedPointer(colsBuffer.baseAddress!)
                parallelFor(patchSize, threads: threads) { range in
                    for r in range {
                        let c = r / (size * size), a = (r / size) % size, b = r % size
                        for sample in 0..<n {
                            unfoldTap(plane: x.pointer + (c * n + sample) * height * width, geometry: geometry,
                                      border: .zero, tapRow: a, tapColumn: b, outputRows: 0..<oh,
                                      into: out.pointer + r * columnsCount + sample * oh * ow)
                        }
                    }
                }
            }
        }
    }

    /// col2im: adds each column value back onto the input position it was read from.
    func fold(_ cols: [Float], batch n: Int, threads: Int) -> BatchTensor {
        if isPointwise {
            return BatchTensor(channels: inputShape.channels, batch: n, height: inputShape.height,
                               width: inputShape.width, data: cols)
        }
        var gradient = BatchTensor(channels: inputShape.channels, batch: n, height: inputShape.height,
                                   width: inputShape.width)
        let oh = rows.outputSize, ow = columns.outputSize
        let width = inputShape.width, height = inputShape.height
        let columnsCount = n * oh * ow
        let (rows, columns, size) = (rows, columns, size)
        cols.withUnsafeBufferPointer { colsBuffer in
            gradient.data.withUnsafeMutableBufferPointer { dxBuffer in
                let source = SharedReadPointer(colsBuffer.baseAddress!), dx = SharedPointer(dxBuffer.baseAddress!)
                // One channel per chunk: all rows (c, ·, ·) write only channel c.
                parallelFor(inputShape.channels, threads: threads) { range in
                    for c in range {
                        for a in 0..<size {
                            for b in 0..<size {
                                let r = (c * size + a) * size + b
                                let inside = columns.insideOutputs(tap: b)
                                for sample in 0..<n {
                                    let plane = dx.pointer + (c * n + sample) * height * width
                                    let srcBase = source.pointer + r * columnsCount + sample * oh * ow
                                    for oy in 0..<oh {
                                        let iy = rows.inputIndex(output: oy, tap: a)
                                        guard iy >= 0 && iy < height else { continue }
                                        let dst = plane + iy * width, src = srcBase + oy * ow
                                        if columns.stride == 1 {
                                            let shift = columns.inputIndex(output: 0, tap: b)
                                            for ox in inside { dst[ox + shift] += src[ox] }
                                        } else {
                                            for ox in inside { dst[columns.inputIndex(output: ox, tap: b)] += src[ox] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return gradient
    }
}
