// Presets: the built-in architectures (issue: `lenet5`, `fmnist-small`) for 28×28 gray input.

/// Built-in architectures by name.
public enum Preset: String, CaseIterable, Sendable {
    /// LeNet-5 (LeCun et al. 1998) with ReLU and max pooling: 61,706 parameters.
    case lenet5
    /// conv3×3 16 pad 1, ReLU, pool, conv3×3 32 pad 1, ReLU, pool, dense 10.
    case fmnistSmall = "fmnist-small"

    /// The layers.
    public var specs: [LayerSpec] {
        switch self {
        case .lenet5:
            return [
                .conv2d(filters: 6, size: 5, stride: 1, padding: 2, dilation: 1, bias: true), .relu,
                .maxpool(size: 2, stride: 2),
                .conv2d(filters: 16, size: 5, stride: 1, padding: 0, dilation: 1, bias: true), .relu,
                .maxpool(size: 2, stride: 2),
                .dense(units: 120), .relu, .dense(units: 84), .relu, .dense(units: 10),
            ]
        case .fmnistSmall:
            return [
                .conv2d(filters: 16, size: 3, stride: 1, padding: 1, dilation: 1, bias: true), .relu,
                .maxpool(size: 2, stride: 2),
                .conv2d(filters: 32, size: 3, stride: 1, padding: 1, dilation: 1, bias: true), .relu,
                .maxpool(size: 2, stride: 2),
                .dense(units: 10),
            ]
        }
    }

    /// The input both presets expect: 1×28×28.
    public static let input = SampleShape(channels: 1, height: 28, width: 28)
}
