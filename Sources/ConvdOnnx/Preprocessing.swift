// Preprocessing: how an image becomes an imported model's input, since ONNX does not say —
// size and channels, channel order, sample scale, per-channel mean and std, the resize rule
// (stretch, or shorter side then centre crop) and the memory layout. Read from the model's
// `.toml` (ConvdConfig's ModelConfigFile) or made from the graph's declared input.
import ConvdCore

/// The steps from a decoded image (unit scale) to a model input.
public struct Preprocessing: Sendable, Equatable {
    /// How the image is brought to width×height.
    public enum ResizeRule: Sendable, Equatable {
        /// To width×height, ignoring the aspect ratio.
        case stretch
        /// The shorter side to `side` pixels (aspect kept), then the centred width×height.
        case shorterSide(Int)
    }

    /// Input tensor layout.
    public enum Layout: String, Sendable, CaseIterable {
        case nchw
        case nhwc
    }

    public var width: Int
    public var height: Int
    /// 1 (gray) or 3 (colour).
    public var channels: Int
    /// Colour channels in BGR order instead of RGB.
    public var bgr = false
    /// Multiplies 8-bit sample values (0…255): 1/255 gives the unit scale.
    public var scale: Float = 1.0 / 255
    /// Subtracted per channel after scaling (one value, or one per channel).
    public var mean: [Float] = [0]
    /// Divides per channel after the mean (one value, or one per channel).
    public var std: [Float] = [1]
    public var resize: ResizeRule = .stretch
    public var interpolation: Resize.Method = .area
    public var layout: Layout = .nchw

    public init(width: Int, height: Int, channels: Int) {
        self.width = width
        self.height = height
        self.channels = channels
    }

    /// The model input's shape for one image.
    public var inputShape: [Int] {
        layout == .nchw ? [1, channels, height, width] : [1, height, width, channels]
    }

    /// `image` (unit scale, any size, 1 or 3 channels) as the model's input.
    public func prepare(_ image: Tensor) -> OnnxTensor {
        var x = channels == 1 ? ChannelOps.gray(image) : ChannelOps.rgb(image)
        switch resize {
        case .stretch:
            x = Resize.apply(x, height: height, width: width, method: interpolation)
        case .shorterSide(let side):
            // The window that scaling the shorter side to `side` and cropping width×height
            // keeps, cut from the image first: only the crop is resized, so a long thin image
            // never becomes a huge intermediate one.
            let shorter = Double(min(x.height, x.width)), scale = Double(side) / shorter
            let h = min(x.height, max(1, Int((Double(height) / scale).rounded())))
            let w = min(x.width, max(1, Int((Double(width) / scale).rounded())))
            x = Resize.apply(Resize.centreCrop(x, height: h, width: w), height: height, width: width, method: interpolation)
        }
        let plane = height * width
        var values = [Float](repeating: 0, count: channels * plane)
        let unit = scale * 255
        for c in 0..<channels {
            let source = bgr && channels == 3 ? 2 - c : c
            let m = mean.count == 1 ? mean[0] : mean[c], inverse = 1 / (std.count == 1 ? std[0] : std[c])
            for i in 0..<plane {
                let v = (x.scalars[source * plane + i] * unit - m) * inverse
                if layout == .nchw { values[c * plane + i] = v } else { values[i * channels + c] = v }
            }
        }
        return OnnxTensor(shape: inputShape, floats: values)
    }

    /// One line for `inspect` and `check-config`.
    public var summary: String {
        var parts = ["\(width)×\(height)×\(channels)", layout.rawValue]
        if channels == 3 { parts.append(bgr ? "bgr" : "rgb") }
        parts.append("scale \(scale == 1.0 / 255 ? "1/255" : "\(scale)")")
        if mean != [0] { parts.append("mean \(mean)") }
        if std != [1] { parts.append("std \(std)") }
        switch resize {
        case .stretch: parts.append("stretch")
        case .shorterSide(let side): parts.append("shorter side \(side) then centre crop")
        }
        parts.append(interpolation.rawValue)
        return parts.joined(separator: ", ")
    }
}
