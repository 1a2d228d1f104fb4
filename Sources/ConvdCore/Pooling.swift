// Pooling: max and average over w×w windows with stride and padding (conv-semantics.md §3),
// on the same WindowGeometry as correlation. Padded positions are skipped: max ignores
// them and average divides by the number of samples inside the input (TensorFlow's rule).

/// Max or average.
public enum PoolKind: String, Sendable, CaseIterable {
    /// `y = max{x_1..x_k}`.
    case max
    /// `y = mean{x_1..x_k}`.
    case average
}

/// A w×w pooling window with stride and padding.
public struct Pooling: Sendable, Equatable {
    /// Max or average.
    public var kind: PoolKind
    /// Window side.
    public var window: Int
    /// Step between windows (default: the window side).
    public var stride: Int
    /// Padding on each side.
    public var padding: Padding

    /// A pooling window; `stride` defaults to `window`.
    public init(kind: PoolKind, window: Int, stride: Int? = nil, padding: Padding = .valid) {
        self.kind = kind
        self.window = window
        self.stride = stride ?? window
        self.padding = padding
    }

    /// The window over an input of `height×width`.
    public func geometry(height: Int, width: Int) -> WindowGeometry {
        WindowGeometry(height: height, width: width, kernelHeight: window, kernelWidth: window,
                       stride: stride, padding: padding)
    }

    /// The output shape (0 in a dimension means the window does not fit).
    public func outputShape(for shape: TensorShape) -> TensorShape {
        let g = geometry(height: shape.height, width: shape.width)
        return TensorShape(channels: shape.channels, height: g.outputHeight, width: g.outputWidth)
    }

    /// Pools every channel of `input`.
    public func apply(_ input: Tensor, threads: Int = 1) -> Tensor {
        let g = geometry(height: input.height, width: input.width)
        var out = Tensor.uninitialized(TensorShape(channels: input.channels, height: g.outputHeight, width: g.outputWidth))
        input.scalars.withUnsafeBufferPointer { x in
            out.scalars.withUnsafeMutableBufferPointer { y in
                pool(maps: x.baseAddress!, count: input.channels, height: input.height, width: input.width,
                     into: y.baseAddress!, threads: threads)
            }
        }
        return out
    }

    /// Pools `count` maps of `height×width` stored one after another into `output` (each map's
    /// `outputHeight×outputWidth` results, in the same order): the one pooling loop behind
    /// chains and ConvdNet's PoolLayer, which passes its C·N maps. Windows wholly inside the
    /// map take the plain loop (2×2 max unrolled); edge windows skip padded positions.
    /// Max starts from the window's first sample, so a NaN there stays.
    public func pool(maps input: UnsafePointer<Float>, count: Int, height: Int, width: Int,
                     into output: UnsafeMutablePointer<Float>, threads: Int) {
        let g = geometry(height: height, width: width)
        let rows = g.rows, cols = g.columns, oh = g.outputHeight, ow = g.outputWidth
        let innerRows = rows.interior, innerCols = cols.interior
        let window = window, isMax = kind == .max, scale = 1 / Float(window * window)
        let x = SharedReadPointer(input), y = SharedPointer(output)
        parallelFor(count, threads: threads) { range in
            for m in range {
                let plane = x.pointer + m * height * width, out = y.pointer + m * oh * ow
                for i in 0..<oh {
                    let line = out + i * ow
                    guard innerRows.contains(i) && !innerCols.isEmpty else {
                        for j in 0..<ow { line[j] = edgeWindow(plane, height, width, rows, cols, i, j) }
                        continue
                    }
                    for j in 0..<innerCols.lowerBound { line[j] = edgeWindow(plane, height, width, rows, cols, i, j) }
                    for j in innerCols.upperBound..<ow { line[j] = edgeWindow(plane, height, width, rows, cols, i, j) }
                    // The interior: the window's top-left sample moves by `stride` along the row.
                    let top = plane + rows.inputIndex(output: i, tap: 0) * width
                    let step = cols.stride, shift = cols.padBefore
                    if isMax && window == 2 {
                        for j in innerCols {
                            let p = top + (j * step - shift)
                            line[j] = Swift.max(Swift.max(p[0], p[1]), Swift.max(p[width], p[width + 1]))
                        }
                    } else if isMax {
                        for j in innerCols {
                            let p = top + (j * step - shift)
                            var best = p[0]
                            for a in 0..<window { for b in 0..<window { best = Swift.max(best, p[a * width + b]) } }
                            line[j] = best
                        }
                    } else {
                        for j in innerCols {
                            let p = top + (j * step - shift)
                            var sum: Float = 0
                            for a in 0..<window { for b in 0..<window { sum += p[a * width + b] } }
                            line[j] = sum * scale
                        }
                    }
                }
            }
        }
    }

    /// A window that reaches into the padding: only the samples inside count (average divides
    /// by their number; a window wholly in the padding gives -inf for max, 0 for average).
    private func edgeWindow(_ plane: UnsafePointer<Float>, _ height: Int, _ width: Int, _ rows: AxisWindow,
                            _ cols: AxisWindow, _ i: Int, _ j: Int) -> Float {
        var best: Float? = nil, total: Float = 0, n = 0
        for a in 0..<window {
            let y = rows.inputIndex(output: i, tap: a)
            guard y >= 0 && y < height else { continue }
            for b in 0..<window {
                let x = cols.inputIndex(output: j, tap: b)
                guard x >= 0 && x < width else { continue }
                let v = plane[y * width + x]
                best = best.map { Swift.max($0, v) } ?? v
                total += v
                n += 1
            }
        }
        return kind == .max ? best ?? -.infinity : total / Float(Swift.max(n, 1))
    }

    /// Global pooling: each channel reduced to one value, C×1×1.
    public static func global(_ kind: PoolKind, _ input: Tensor) -> Tensor {
        var out: [Float] = []
        for c in 0..<input.channels {
            let plane = input.scalars[(c * input.planeSize)..<((c + 1) * input.planeSize)]
            switch kind {
            case .max: out.append(plane.max() ?? 0)
            case .average: out.append(plane.reduce(0, +) / Float(Swift.max(plane.count, 1)))
            }
        }
        return Tensor(channels: input.channels, height: 1, width: 1, scalars: out)
    }
}
