// BatchTensor: a mini-batch of activations in C×N×H×W ("channel-major") order.
//
// Every layer reads and writes this layout. It makes a batched convolution one GEMM whose
// output is already in place (K × (N·H·W)), batch normalisation a loop over contiguous
// samples of one channel, and a dense layer's features×batch matrix a tensor with H = W = 1.
// Sample (c, n, y, x) is at `((c * batch + n) * height + y) * width + x`.
import ConvdCore

/// One sample's shape, C×H×W (the batch dimension is implied).
public typealias SampleShape = TensorShape

/// Activations of a mini-batch, C×N×H×W.
public struct BatchTensor: Sendable, Equatable {
    /// Channels (features for dense layers).
    public let channels: Int
    /// Samples in the batch.
    public let batch: Int
    /// Rows per map.
    public let height: Int
    /// Columns per map.
    public let width: Int
    /// Values in C×N×H×W order.
    public var data: [Float]

    /// A batch from its values (C×N×H×W order).
    public init(channels: Int, batch: Int, height: Int, width: Int, data: [Float]) {
        precondition(data.count == channels * batch * height * width, "data does not match the batch shape")
        self.channels = channels
        self.batch = batch
        self.height = height
        self.width = width
        self.data = data
    }

    /// A zero-filled batch.
    public init(channels: Int, batch: Int, height: Int, width: Int) {
        self.init(channels: channels, batch: batch, height: height, width: width,
                  data: [Float](repeating: 0, count: channels * batch * height * width))
    }

    /// A batch whose values `fill` writes, every one of them (the storage is not zero-filled
    /// first: for layers that overwrite their whole output).
    public init(channels: Int, batch: Int, height: Int, width: Int,
                writingEvery fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let count = channels * batch * height * width
        self.init(channels: channels, batch: batch, height: height, width: width,
                  data: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                      fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
                      initialized = count
                  })
    }

    /// Samples of one channel map.
    public var mapSize: Int { height * width }
    /// Values per channel across the batch: N·H·W.
    public var channelStride: Int { batch * height * width }
    /// One sample's shape.
    public var sampleShape: SampleShape { SampleShape(channels: channels, height: height, width: width) }

    /// Packs C×H×W images (all the same shape) into a batch.
    public init(stacking images: [Tensor]) {
        let first = images.first ?? Tensor(channels: 0, height: 0, width: 0)
        var out = BatchTensor(channels: first.channels, batch: images.count, height: first.height, width: first.width)
        let map = first.planeSize
        for (n, image) in images.enumerated() {
            precondition(image.shape == first.shape, "images in a batch must share one shape")
            for c in 0..<first.channels {
                let dst = (c * images.count + n) * map
                out.data.replaceSubrange(dst..<(dst + map), with: image.scalars[(c * map)..<((c + 1) * map)])
            }
        }
        self = out
    }

    /// Sample `n` as a C×H×W tensor.
    public func sample(_ n: Int) -> Tensor {
        var scalars: [Float] = []
        scalars.reserveCapacity(channels * mapSize)
        for c in 0..<channels {
            let start = (c * batch + n) * mapSize
            scalars.append(contentsOf: data[start..<(start + mapSize)])
        }
        return Tensor(channels: channels, height: height, width: width, scalars: scalars)
    }

    /// Adds `other` (the same shape) element by element, on up to `threads` threads.
    public mutating func add(_ other: BatchTensor, threads: Int = 1) {
        precondition(other.data.count == data.count, "adding batches of different sizes")
        data.withUnsafeMutableBufferPointer { y in
            Self.sum(UnsafeBufferPointer(y), other, into: y, threads: threads)
        }
    }

    /// The element-wise sum of `first` and `second` (the same shape) in a new batch, on up to
    /// `threads` threads: one pass, where copying `first` and adding would take two.
    public init(sum first: BatchTensor, _ second: BatchTensor, threads: Int) {
        precondition(first.data.count == second.data.count, "adding batches of different sizes")
        self.init(channels: first.channels, batch: first.batch, height: first.height, width: first.width) { y in
            first.data.withUnsafeBufferPointer { Self.sum($0, second, into: y, threads: threads) }
        }
    }

    /// `out[i] = a[i] + b.data[i]` over `out` (`a` may be `out`), split over the threads.
    private static func sum(_ a: UnsafeBufferPointer<Float>, _ b: BatchTensor,
                            into out: UnsafeMutableBufferPointer<Float>, threads: Int) {
        b.data.withUnsafeBufferPointer { bBuffer in
            guard let first = a.baseAddress, let second = bBuffer.baseAddress, let target = out.baseAddress else { return }
            let u = SharedReadPointer(first), v = SharedReadPointer(second), y = SharedPointer(target)
            parallelElementwise(out.count, threads: threads) { r in
                VectorOps.add(u.pointer + r.lowerBound, v.pointer + r.lowerBound, into: y.pointer + r.lowerBound,
                              count: r.count)
            }
        }
    }

    /// The value at channel `c`, sample `n`, row `y`, column `x`.
    public subscript(c: Int, n: Int, y: Int, x: Int) -> Float {
        get { data[((c * batch + n) * height + y) * width + x] }
        set { data[((c * batch + n) * height + y) * width + x] = newValue }
    }
}
