// NetworkLimits: the largest network convd agrees to build, in one place. Model and
// architecture files belong to the operator, but a typo such as `filters = 999999999` must
// be a one-line error naming the layer, not a 36 GB allocation or an overflow trap (security
// audit #14). NetworkPlan.swift applies the caps before any weight is allocated.
//
// The shipped model (98,666 parameters, 32 filters, 3×3 kernels, 28×28 input) and the presets
// are far inside them.

/// Caps on what an architecture may ask for.
public enum NetworkLimits {
    /// Input width, height and channels, each.
    public static let maxInputSide = 65536
    /// Filters of one conv2d layer.
    public static let maxFilters = 65536
    /// Units of one dense layer.
    public static let maxUnits = 65536
    /// Kernel side of conv2d and window side of maxpool and avgpool.
    public static let maxKernelSize = 1025
    /// Stride, dilation and padding.
    public static let maxStride = 65536
    /// Trainable values in the whole network (1 GiB of Float).
    public static let maxParameters = 1 << 28
    /// Values in any one tensor, per sample: the input, a layer's output, a weight tensor or
    /// conv2d's unfolded input (4 GiB of Float).
    public static let maxTensorElements = 1 << 30
}
