// Parameter: one trainable tensor (weights or bias) with its gradient, shared by reference
// between its layer and the optimizer.

/// A named trainable tensor and the gradient accumulated for it.
public final class Parameter {
    /// The name in model files: `layers.<i>.weight`, `layers.<i>.bias`, ...
    public let name: String
    /// Its shape, outermost first (conv weights: K×C×kH×kW).
    public let shape: [Int]
    /// Current values.
    public var value: [Float] { didSet { version &+= 1 } }
    /// Changes with every write to `value`, so a packed copy (the inference plan) knows it is stale.
    public private(set) var version = 0
    /// ∂L/∂value for the current batch.
    public var gradient: [Float]
    /// Whether weight decay applies (weights yes, biases and normalisation no).
    public let decays: Bool

    /// A parameter with the given values.
    public init(name: String, shape: [Int], value: [Float], decays: Bool) {
        precondition(value.count == shape.reduce(1, *), "parameter values do not match its shape")
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = [Float](repeating: 0, count: value.count)
        self.decays = decays
    }

    /// Sets the gradient to zero.
    public func zeroGradient() {
        for i in gradient.indices { gradient[i] = 0 }
    }
}

/// A non-trainable tensor a layer keeps in the model file (batch-norm running statistics).
public final class Buffer {
    /// The name in model files.
    public let name: String
    /// Current values.
    public var value: [Float] { didSet { version &+= 1 } }
    /// Changes with every write to `value`.
    public private(set) var version = 0

    /// A buffer with the given values.
    public init(name: String, value: [Float]) {
        self.name = name
        self.value = value
    }
}
