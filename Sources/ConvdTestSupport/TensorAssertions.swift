// TensorAssertions: comparisons with a stated tolerance, for results that floating point
// reorders (fast paths against the reference loop).
import ConvdCore

/// The largest |a - b| over two equal-length arrays (infinity if the lengths differ, or if
/// only one side holds a NaN at some index).
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    // Equal values (infinities included) differ by 0; a NaN on one side only is infinitely
    // far (max alone would pass over it), NaN on both sides agrees.
    return zip(a, b).reduce(0) { worst, pair in
        let (x, y) = pair
        if x == y || (x.isNaN && y.isNaN) { return worst }
        if x.isNaN || y.isNaN { return .infinity }
        return max(worst, abs(x - y))
    }
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
