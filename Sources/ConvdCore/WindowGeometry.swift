// WindowGeometry: the one source of truth for sliding windows, shared by correlation, pooling,
// im2col and chain shape checks (conv-semantics.md §1):
//
//     out = floor((n + padBefore + padAfter - d*(f-1) - 1) / s) + 1
//
// `valid` pads nothing; `same` gives out = ceil(n/s) with total padding
// max((out-1)*s + d*(f-1) + 1 - n, 0), the odd pixel going bottom/right (TensorFlow/Keras);
// `explicit(p)` pads p on both sides.

/// How much padding a window operation adds around its input.
public enum Padding: Sendable, Equatable, CustomStringConvertible {
    /// No padding: the window stays inside the input.
    case valid
    /// Enough padding for `ceil(n / stride)` outputs; the odd pixel goes bottom/right.
    case same
    /// `p` samples on every side.
    case explicit(Int)

    /// The chain-syntax spelling: `valid`, `same` or the number.
    public var description: String {
        switch self {
        case .valid: return "valid"
        case .same: return "same"
        case .explicit(let p): return String(p)
        }
    }
}

/// The window along one axis: where it starts for each output index and how many outputs fit.
public struct AxisWindow: Sendable, Equatable {
    /// Input length along the axis.
    public let inputSize: Int
    /// Kernel (window) length.
    public let kernelSize: Int
    /// Step between windows.
    public let stride: Int
    /// Spacing between taps.
    public let dilation: Int
    /// Padding added before the first sample (top or left).
    public let padBefore: Int
    /// Padding added after the last sample (bottom or right).
    public let padAfter: Int
    /// Number of outputs; 0 when the window does not fit.
    public let outputSize: Int

    /// Resolves `padding` for an input of length `inputSize`.
    public init(inputSize: Int, kernelSize: Int, stride: Int = 1, dilation: Int = 1, padding: Padding) {
        precondition(kernelSize >= 1 && stride >= 1 && dilation >= 1, "window parameters must be positive")
        self.inputSize = inputSize
        self.kernelSize = kernelSize
        self.stride = stride
        self.dilation = dilation
        let span = dilation * (kernelSize - 1) + 1
        switch padding {
        case .valid:
            padBefore = 0
            padAfter = 0
        case .explicit(let p):
            padBefore = p
            padAfter = p
        case .same:
            let out = (inputSize + stride - 1) / stride
            let total = max((out - 1) * stride + span - inputSize, 0)
            padBefore = total / 2
            padAfter = total - total / 2
        }
        let padded = inputSize + padBefore + padAfter
        outputSize = padded >= span ? (padded - span) / stride + 1 : 0
    }

    /// The effective extent of the dilated window: `d*(f-1) + 1`.
    public var span: Int { dilation * (kernelSize - 1) + 1 }

    /// The input coordinate of tap `tap` of output `index` (may fall in the padding: < 0 or ≥ n).
    @inline(__always)
    public func inputIndex(output index: Int, tap: Int) -> Int {
        index * stride - padBefore + tap * dilation
    }

    /// The outputs whose every tap lies inside the input, as a half-open range.
    public var interior: Range<Int> {
        guard outputSize > 0 else { return 0..<0 }
        // index*stride - padBefore >= 0  and  index*stride - padBefore + span - 1 <= n - 1
        let first = (padBefore + stride - 1) / stride
        let lastAllowed = inputSize - span + padBefore
        let last = lastAllowed >= 0 ? lastAllowed / stride : -1
        let lower = min(first, outputSize)
        let upper = min(last + 1, outputSize)
        return lower < upper ? lower..<upper : lower..<lower
    }
}

/// A 2-D window: one `AxisWindow` for rows and one for columns.
public struct WindowGeometry: Sendable, Equatable {
    /// The vertical axis.
    public let rows: AxisWindow
    /// The horizontal axis.
    public let columns: AxisWindow

    /// A square-stride, square-dilation window of `kernelHeight×kernelWidth` over `height×width`.
    public init(height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int = 1, dilation: Int = 1, padding: Padding) {
        rows = AxisWindow(inputSize: height, kernelSize: kernelHeight, stride: stride,
                          dilation: dilation, padding: padding)
        columns = AxisWindow(inputSize: width, kernelSize: kernelWidth, stride: stride,
                             dilation: dilation, padding: padding)
    }

    /// A window from one axis description per direction (e.g. padding only along columns).
    public init(rows: AxisWindow, columns: AxisWindow) {
        self.rows = rows
        self.columns = columns
    }

    /// Output rows.
    public var outputHeight: Int { rows.outputSize }
    /// Output columns.
    public var outputWidth: Int { columns.outputSize }
}
