// Activation: the element-wise functions of conv-semantics.md §3.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An element-wise non-linearity.
public enum Activation: Sendable, Equatable {
    /// `max(0, x)`.
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
        case .relu: return x > 0 ? x : 0
        case .leakyRelu(let a): return x > 0 ? x : a * x
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .abs: return Swift.abs(x)
        }
    }

    /// Applies the function to every sample.
    public func apply(_ input: Tensor) -> Tensor {
        var out = input
        for i in out.scalars.indices { out.scalars[i] = self(out.scalars[i]) }
        return out
    }
}
