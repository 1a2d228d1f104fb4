// ChainLimits: the largest chain convd agrees to parse and run, in one place. A chain comes
// from the operator (the config, `--chain`), but a typo such as `box(65536)` must still be a
// one-line error, not a 17 GB allocation or a stack overflow (security audit #15).
//
// Every sample chain and every chain in the tests is far inside these caps: the largest
// kernel there is 5×5, the deepest nesting 4 levels, the longest chain 11 steps.

/// Caps on what a filter chain may ask for.
public enum ChainLimits {
    /// Steps in one chain.
    public static let maxSteps = 256
    /// Nested parentheses and brackets in one step: `conv([[1]])` is 3 levels deep.
    public static let maxNesting = 64
    /// Largest kernel side (box, gaussian, matrix kernels) and pooling window.
    public static let maxKernelSize = 1025
    /// Largest explicit padding, in pixels per side.
    public static let maxPadding = 1024
    /// Largest stride and dilation.
    public static let maxStride = 65536
    /// Largest number of values in any tensor a step makes (4 GiB of Float), checked with the
    /// shapes before an image is read and again for every image before the first step runs.
    public static let maxElements = 1 << 30
}
