// InputSpec: what a model expects of an image and how to prepare one: decoded on the unit
// scale, converted to gray or RGB, resized to width×height, then (x − mean)/std, with one
// mean and std for every channel or one per channel (models imported from ONNX).
import ConvdCore

/// The input a model was trained on.
public struct InputSpec: Sendable, Equatable {
    /// Columns.
    public var width: Int
    /// Rows.
    public var height: Int
    /// 1 (gray) or 3 (RGB).
    public var channels: Int
    /// Subtracted from every sample (unit scale).
    public var mean: Float
    /// Divides every sample after the mean is subtracted.
    public var std: Float
    /// One mean and one std per channel, in place of `mean` and `std` when not empty.
    public var channelMean: [Float] = []
    public var channelStd: [Float] = []

    /// A spec.
    public init(width: Int, height: Int, channels: Int, mean: Float = 0, std: Float = 1) {
        self.width = width
        self.height = height
        self.channels = channels
        self.mean = mean
        self.std = std
    }

    /// The per-sample shape.
    public var shape: SampleShape { SampleShape(channels: channels, height: height, width: width) }

    /// An image on the unit scale (any size, 1 or 3 channels) as the network's input.
    public func prepare(_ image: Tensor) -> Tensor {
        var x = channels == 1 ? ChannelOps.gray(image) : ChannelOps.rgb(image)
        if x.height != height || x.width != width { x = Resize.apply(x, height: height, width: width) }
        return normalize(x)
    }

    /// Channel `c`'s mean.
    public func mean(_ c: Int) -> Float { channelMean.isEmpty ? mean : channelMean[c] }
    /// Channel `c`'s std.
    public func std(_ c: Int) -> Float { channelStd.isEmpty ? std : channelStd[c] }

    /// (x − mean)/std on a tensor already of the right shape.
    public func normalize(_ x: Tensor) -> Tensor {
        var out = x
        let plane = x.height * x.width
        for c in 0..<x.channels {
            let m = mean(c), inverse = 1 / std(c)
            for i in (c * plane)..<((c + 1) * plane) { out.scalars[i] = (out.scalars[i] - m) * inverse }
        }
        return out
    }
}
