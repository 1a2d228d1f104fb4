// TensorAssertions: comparisons with a stated tolerance, for results that floating point
// reorders (fast paths against the reference loop).
import ConvdCore

/// The largest |a - b| over two equal-length arrays (infinity if the lengths differ).
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Random samples in -1...1 from a seeded generator.
public func randomTensor(channels: Int, height: Int, width: Int,
                         using generator: inout SeededGenerator) -> Tensor {
    Tensor(channels: channels, height: height, width: width,
           scalars: (0..<(channels * height * width)).map { _ in Float.random(in: -1...1, using: &generator) })
}

/// A random kernel of the given shape with weights in -1...1.
public func randomKernel(depth: Int = 1, height: Int, width: Int, using generator: inout SeededGenerator) -> Kernel {
    Kernel(depth: depth, height: height, width: width,
           weights: (0..<(depth * height * width)).map { _ in Float.random(in: -1...1, using: &generator) })
}
