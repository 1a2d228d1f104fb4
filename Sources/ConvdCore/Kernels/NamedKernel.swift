// NamedKernel: the kernels of conv-semantics.md §4, by name, plus the parametric
// `gaussian(n, sigma)` and `box(n)`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built-in kernels a chain can name.
public enum NamedKernel: String, Sendable, CaseIterable {
    case identity
    case box
    case mean
    case sharpen
    case edge
    case laplacian
    case prewittX = "prewitt-x"
    case prewittY = "prewitt-y"
    case sobelX = "sobel-x"
    case sobelY = "sobel-y"
    case robertsX = "roberts-x"
    case robertsY = "roberts-y"
    case verticalEdge = "vertical-edge"
    case horizontalEdge = "horizontal-edge"

    /// What the kernel is for, as `convd kernels` prints it.
    public var summary: String {
        switch self {
        case .identity: return "identity (copies the input)"
        case .box, .mean: return "3×3 mean (smoothing)"
        case .sharpen: return "sharpen"
        case .edge: return "Laplacian, 8-neighbour (edges)"
        case .laplacian: return "Laplacian, 4-neighbour"
        case .prewittX: return "Prewitt, horizontal gradient"
        case .prewittY: return "Prewitt, vertical gradient"
        case .sobelX: return "Sobel, horizontal gradient"
        case .sobelY: return "Sobel, vertical gradient"
        case .robertsX: return "Roberts cross, first diagonal"
        case .robertsY: return "Roberts cross, second diagonal"
        case .verticalEdge: return "vertical edges (lecture notes)"
        case .horizontalEdge: return "horizontal edges (lecture notes)"
        }
    }

    /// The kernel's weights, rows top to bottom.
    public var kernel: Kernel {
        switch self {
        case .identity: return Kernel(rows: [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
        case .box, .mean: return Self.box(3)
        case .sharpen: return Kernel(rows: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
        case .edge: return Kernel(rows: [[1, 1, 1], [1, -8, 1], [1, 1, 1]])
        case .laplacian: return Kernel(rows: [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
        case .prewittX: return Kernel(rows: [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]])
        case .prewittY: return Kernel(rows: [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
        case .sobelX: return Kernel(rows: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
        case .sobelY: return Kernel(rows: [[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
        case .robertsX: return Kernel(rows: [[0, 1], [-1, 0]])
        case .robertsY: return Kernel(rows: [[1, 0], [0, -1]])
        case .verticalEdge: return Kernel(rows: [[1, 0, -1], [1, 0, -1], [1, 0, -1]])
        case .horizontalEdge: return Kernel(rows: [[1, 1, 1], [0, 0, 0], [-1, -1, -1]])
        }
    }

    /// `1/(n·n) · ones(n, n)`.
    public static func box(_ n: Int) -> Kernel {
        precondition(n >= 1, "box size must be positive")
        return Kernel(height: n, width: n, weights: [Float](repeating: 1 / Float(n * n), count: n * n))
    }

    /// The sampled Gaussian `exp(-(x² + y²) / (2σ²))` on an n×n grid centred on the middle
    /// sample, normalised to sum 1 (computed in Double, rounded once to Float).
    public static func gaussian(_ n: Int, sigma: Double) -> Kernel {
        precondition(n >= 1 && sigma > 0, "gaussian needs n >= 1 and sigma > 0")
        let centre = Double(n - 1) / 2
        let oneD = (0..<n).map { i -> Double in
            let d = Double(i) - centre
            return exp(-d * d / (2 * sigma * sigma))
        }
        let total = oneD.reduce(0, +)
        let normalised = oneD.map { $0 / total }
        var weights: [Float] = []
        for a in 0..<n {
            for b in 0..<n { weights.append(Float(normalised[a] * normalised[b])) }
        }
        return Kernel(height: n, width: n, weights: weights)
    }
}
