// Activation: the element-wise functions of conv-semantics.md §3.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An element-wise non-linearity.
public enum Activation: Sendable, Equatable {
    /// `max(0, x)`; NaN stays NaN (as in PyTorch), -0 stays -0.
    case relu
    /// `x` for x > 0, `a·x` otherwise.
    case leakyRelu(Float)
    /// `1 / (1 + e^-x)`.
    case sigmoid
    /// `tanh(x)`.
    case tanh
    /// `|x|`.
    case abs

    /// The function at one point.
    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        switch self {
        case .relu: return x < 0 ? 0 : x
        case .leakyRelu(let a): return x > 0 ? x : a * x
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .abs: return Swift.abs(x)
        }
    }

    /// Applies the function to every sample.
    public func apply(_ input: Tensor) -> Tensor {
        var out = input
        out.scalars.withUnsafeMutableBufferPointer { apply(inPlace: $0) }
        return out
    }

    /// Applies the function to every value of `values`, in place: the one loop that chains and
    /// network layers (ConvdNet's ActivationLayer) both run. ReLU takes the vector loop.
    public func apply(inPlace values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        switch self {
        case .relu: VectorOps.relu(base, base, count: values.count)
        default: for i in values.indices { values[i] = self(values[i]) }
        }
    }
}
