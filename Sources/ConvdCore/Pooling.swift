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
    public func apply(_ input: Tensor) -> Tensor {
        let g = geometry(height: input.height, width: input.width)
        let rows = g.rows, cols = g.columns
        var out = [Float](repeating: 0, count: input.channels * g.outputHeight * g.outputWidth)
        var index = 0
        input.scalars.withUnsafeBufferPointer { x in
            for c in 0..<input.channels {
                let plane = x.baseAddress! + c * input.planeSize
                for i in 0..<rows.outputSize {
                    for j in 0..<cols.outputSize {
                        var best = -Float.infinity, total: Float = 0, n = 0
                        for a in 0..<window {
                            let y = rows.inputIndex(output: i, tap: a)
                            guard y >= 0 && y < input.height else { continue }
                            for b in 0..<window {
                                let xIndex = cols.inputIndex(output: j, tap: b)
                                guard xIndex >= 0 && xIndex < input.width else { continue }
                                let v = plane[y * input.width + xIndex]
                                best = Swift.max(best, v)
                                total += v
                                n += 1
                            }
                        }
                        out[index] = kind == .max ? best : total / Float(Swift.max(n, 1))
                        index += 1
                    }
                }
            }
        }
        return Tensor(channels: input.channels, height: g.outputHeight, width: g.outputWidth, scalars: out)
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
