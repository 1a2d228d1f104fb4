// OnnxTensor: an n-dimensional array as an imported graph computes with it. Images and weights
// are float32; integers (int64 storage for every integer and boolean type) exist for the shape
// glue that import folds away, for indices, and for Cast.

import CConvKernels

/// The element types the graph computes in.
public enum ElementType: String, Sendable, Equatable {
    case float
    case int64
    /// Stored as 0 or 1 in int64 storage.
    case bool
}

/// An n-dimensional row-major array.
public struct OnnxTensor: Sendable, Equatable {
    /// Dimensions, outermost first ([] for a scalar).
    public var shape: [Int]
    /// Values when `type == .float`.
    public var floats: [Float]
    /// Values when `type` is `.int64` or `.bool`.
    public var ints: [Int64]
    /// Which storage holds the values.
    public let type: ElementType
    /// A 4-D float tensor stored as CConvKernels' blocked maps (N × ⌈C/16⌉ × H × W × 16 lanes,
    /// lanes past C zero) between the operators that take that layout; `planar()` gives NCHW.
    public private(set) var blocked = false

    /// A float tensor.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.elementCount == floats.count, "shape \(shape) does not hold \(floats.count) values")
        self.shape = shape
        self.floats = floats
        self.ints = []
        self.type = .float
    }

    /// An integer (or boolean) tensor.
    public init(shape: [Int], ints: [Int64], type: ElementType = .int64) {
        precondition(shape.elementCount == ints.count, "shape \(shape) does not hold \(ints.count) values")
        self.shape = shape
        self.floats = []
        self.ints = ints
        self.type = type
    }

    /// A blocked float tensor of logical shape N×C×H×W (see `blocked`).
    init(blockedShape shape: [Int], floats: [Float]) {
        precondition(shape.count == 4 && floats.count == shape[0] * ((shape[1] + 15) / 16 * 16) * shape[2] * shape[3],
                     "blocked storage does not fit \(shape)")
        self.shape = shape
        self.floats = floats
        self.ints = []
        self.type = .float
        self.blocked = true
    }

    /// The same values in NCHW order.
    public func planar() -> OnnxTensor {
        guard blocked else { return self }
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let blocks = (c + 15) / 16
        var out = [Float](unsafeUninitializedCapacity: n * c * plane) { _, count in count = n * c * plane }
        floats.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for image in 0..<n {
                    for b in 0..<blocks {
                        convd_unpack_blocked(src.baseAddress! + (image * blocks + b) * plane * 16, plane * 16, shape[3] * 16,
                                             Int32(min(16, c - b * 16)), Int32(shape[2]), Int32(shape[3]),
                                             dst.baseAddress! + (image * c + b * 16) * plane, plane)
                    }
                }
            }
        }
        return OnnxTensor(shape: shape, floats: out)
    }

    /// Zeros of `type`.
    public init(zeros shape: [Int], type: ElementType = .float) {
        if type == .float {
            self.init(shape: shape, floats: [Float](repeating: 0, count: shape.elementCount))
        } else {
            self.init(shape: shape, ints: [Int64](repeating: 0, count: shape.elementCount), type: type)
        }
    }

    /// Number of elements.
    public var count: Int { shape.elementCount }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Element `i` as a float, whatever the storage.
    public func float(at i: Int) -> Float { type == .float ? floats[i] : Float(ints[i]) }
    /// Element `i` as an integer (floats truncated toward zero, saturated, NaN as 0).
    public func int(at i: Int) -> Int64 { type == .float ? Self.saturated(floats[i]) : ints[i] }

    /// All elements as floats.
    public var asFloats: [Float] { type == .float ? floats : ints.map { Float($0) } }
    /// All elements as integers.
    public var asInts: [Int64] { type == .float ? floats.map(Self.saturated) : ints }

    /// `v` toward zero as an Int64, saturating at the type's bounds; NaN is 0.
    static func saturated(_ v: Float) -> Int64 {
        if v.isNaN { return 0 }
        if v >= 9.223372e18 { return .max }
        if v <= -9.223372e18 { return .min }
        return Int64(v.rounded(.towardZero))
    }

    /// The same values with another shape of as many elements.
    public func reshaped(_ newShape: [Int]) -> OnnxTensor {
        var copy = self
        precondition(newShape.elementCount == count, "cannot reshape \(shape) to \(newShape)")
        copy.shape = newShape
        return copy
    }

    /// Element `i` copied out as a one-element tensor of the same type.
    func element(_ i: Int) -> OnnxTensor {
        type == .float ? OnnxTensor(shape: [], floats: [floats[i]]) : OnnxTensor(shape: [], ints: [ints[i]], type: type)
    }
}

extension Array where Element == Int {
    /// The product of the dimensions, for other modules.
    public var shapeElements: Int { reduce(1, *) }

    /// The product of the dimensions (1 for a scalar).
    var elementCount: Int { reduce(1, *) }

    /// Row-major strides.
    var strides: [Int] {
        var s = [Int](repeating: 1, count: count)
        var step = 1
        for d in indices.reversed() {
            s[d] = step
            step *= self[d]
        }
        return s
    }

    /// `[1, 3, 224, 224]` as `1×3×224×224`, a scalar as `scalar`.
    public var shapeText: String { isEmpty ? "scalar" : map(String.init).joined(separator: "×") }
}
