// Tensor: the value every ConvdCore operator takes and returns.
//
// Shapes are written C×H×W (channels, height, width); samples are Float, row-major, channel
// planes one after another, so sample (c, y, x) is at `(c * height + y) * width + x`.
// Kernels are written K×C×kH×kW (output maps, input channels, kernel height, kernel width).

/// A C×H×W block of Float samples: an image, a stack of feature maps, or a kernel.
public struct Tensor: Sendable, Equatable {
    /// Number of channels (planes).
    public let channels: Int
    /// Rows per plane.
    public let height: Int
    /// Columns per plane.
    public let width: Int
    /// Samples in C×H×W order; `count == channels * height * width`.
    public var scalars: [Float]

    /// Wraps `scalars` (C×H×W order) as a tensor; the count must match the shape.
    public init(channels: Int, height: Int, width: Int, scalars: [Float]) {
        precondition(channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        precondition(scalars.count == channels * height * width, "scalar count does not match shape")
        self.channels = channels
        self.height = height
        self.width = width
        self.scalars = scalars
    }

    /// A tensor of the given shape with every sample set to `value`.
    public init(channels: Int, height: Int, width: Int, repeating value: Float = 0) {
        self.init(channels: channels, height: height, width: width,
                  scalars: [Float](repeating: value, count: channels * height * width))
    }

    /// A one-channel tensor from rows of samples (all rows the same length).
    public init(rows: [[Float]]) {
        let width = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == width }, "ragged rows")
        self.init(channels: 1, height: rows.count, width: width, scalars: rows.flatMap { $0 })
    }

    /// A tensor from planes of rows: `planes[c][y][x]`.
    public init(planes: [[[Float]]]) {
        let height = planes.first?.count ?? 0
        let width = planes.first?.first?.count ?? 0
        precondition(planes.allSatisfy { $0.count == height && $0.allSatisfy { $0.count == width } },
                     "ragged planes")
        self.init(channels: planes.count, height: height, width: width,
                  scalars: planes.flatMap { $0.flatMap { $0 } })
    }

    /// The shape as a value.
    public var shape: TensorShape { TensorShape(channels: channels, height: height, width: width) }

    /// Samples per plane.
    public var planeSize: Int { height * width }

    /// The sample at channel `c`, row `y`, column `x`.
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { scalars[(c * height + y) * width + x] }
        set { scalars[(c * height + y) * width + x] = newValue }
    }

    /// Channel `c` as a one-channel tensor.
    public func plane(_ c: Int) -> Tensor {
        let start = c * planeSize
        return Tensor(channels: 1, height: height, width: width,
                      scalars: Array(scalars[start..<(start + planeSize)]))
    }

    /// Channel `c` as rows, for tests and printing.
    public func rows(channel c: Int = 0) -> [[Float]] {
        (0..<height).map { y in (0..<width).map { x in self[c, y, x] } }
    }

    /// Stacks one-or-more-channel tensors of equal height and width along the channel axis.
    public static func stacking(_ tensors: [Tensor]) -> Tensor {
        guard let first = tensors.first else { return Tensor(channels: 0, height: 0, width: 0) }
        precondition(tensors.allSatisfy { $0.height == first.height && $0.width == first.width },
                     "stacked tensors differ in height or width")
        var scalars: [Float] = []
        scalars.reserveCapacity(tensors.reduce(0) { $0 + $1.scalars.count })
        for t in tensors { scalars.append(contentsOf: t.scalars) }
        return Tensor(channels: tensors.reduce(0) { $0 + $1.channels }, height: first.height,
                      width: first.width, scalars: scalars)
    }
}

/// The C×H×W shape of a tensor, used where only the shape matters (chain shape checks).
public struct TensorShape: Sendable, Equatable, CustomStringConvertible {
    /// Number of channels.
    public var channels: Int
    /// Rows.
    public var height: Int
    /// Columns.
    public var width: Int

    /// A shape from its three dimensions.
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// `C×H×W`, as errors and `check-config` print it.
    public var description: String { "\(channels)×\(height)×\(width)" }
}
