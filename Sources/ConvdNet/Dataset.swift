// Dataset: labelled images in memory, each already in a model's input shape and on the unit
// scale, stored sample after sample (N × C·H·W). Loaders live in ConvdData.

/// Labelled images of one shape.
public struct Dataset: Sendable {
    /// Per-sample shape.
    public let shape: SampleShape
    /// Samples one after another, `count × shape.channels·height·width`.
    public var pixels: [Float]
    /// Class index per sample.
    public var labels: [Int]
    /// Class names by index.
    public var classNames: [String]

    /// A dataset; `pixels.count` must be `labels.count` samples of `shape`.
    public init(shape: SampleShape, pixels: [Float], labels: [Int], classNames: [String]) {
        precondition(pixels.count == labels.count * shape.channels * shape.height * shape.width,
                     "pixel count does not match labels × shape")
        self.shape = shape
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// Number of samples.
    public var count: Int { labels.count }
    /// Values per sample.
    public var sampleSize: Int { shape.channels * shape.height * shape.width }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Dataset {
        var pixels: [Float] = []
        pixels.reserveCapacity(indices.count * sampleSize)
        for i in indices { pixels.append(contentsOf: self.pixels[(i * sampleSize)..<((i + 1) * sampleSize)]) }
        return Dataset(shape: shape, pixels: pixels, labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// Mean and standard deviation of all samples (for input normalisation).
    public func statistics() -> (mean: Float, std: Float) {
        guard !pixels.isEmpty else { return (0, 1) }
        var sum = 0.0, squares = 0.0
        for v in pixels { sum += Double(v); squares += Double(v) * Double(v) }
        let mean = sum / Double(pixels.count)
        let variance = max(squares / Double(pixels.count) - mean * mean, 1e-12)
        return (Float(mean), Float(variance.squareRoot()))
    }
}
