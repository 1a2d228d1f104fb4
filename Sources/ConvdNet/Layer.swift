// Layer: what every layer of a network does. One file per layer under Layers/, forward
// beside backward; each file's header gives the shapes and what the forward pass caches.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-call facts a layer may need.
public struct LayerContext {
    /// Training (dropout active, batch statistics) or inference.
    public var training: Bool
    /// Threads for the layer's own loops (GEMM threads are set separately).
    public var threads: Int
    /// The seeded source of randomness (dropout masks).
    public var random: SplitMix64
    /// Whether convolutions use the blocked kernel where it applies (the default): inference's
    /// forward pass and training's stride-1 data gradient. False runs the im2col + GEMM forms,
    /// the reference the tests hold the fast paths to.
    public var blockedConvolution = true
    /// Whether `backward` must return ∂L/∂input. The network clears it for its first layer,
    /// whose input gradient nobody reads; layers may then skip it and return an empty batch.
    public var inputGradient = true

    /// A context.
    public init(training: Bool, threads: Int = 1, seed: UInt64 = 0) {
        self.training = training
        self.threads = threads
        self.random = SplitMix64(seed: seed)
    }
}

/// A differentiable layer over C×N×H×W batches.
public protocol Layer: AnyObject {
    /// What the layer is, as written in architectures and model files.
    var spec: LayerSpec { get }
    /// The per-sample input shape it was built for.
    var inputShape: SampleShape { get }
    /// The per-sample output shape.
    var outputShape: SampleShape { get }
    /// Trainable tensors (empty for most layers).
    var parameters: [Parameter] { get }
    /// Saved, non-trainable tensors.
    var buffers: [Buffer] { get }
    /// Computes the output and caches what `backward` needs.
    func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor
    /// Given ∂L/∂output, adds ∂L/∂parameters to the gradients and returns ∂L/∂input.
    func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [Buffer] { [] }
}

/// SplitMix64: a small seeded generator, so training repeats exactly for a given seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator starting from `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Float in [0, 1).
    public mutating func nextUnit() -> Float {
        Float(next() >> 40) * (1.0 / Float(1 << 24))
    }

    /// A standard normal sample (Box–Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(nextUnit(), 1e-7), u2 = nextUnit()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
    }
}
