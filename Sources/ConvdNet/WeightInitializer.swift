// WeightInitializer: seeded He and Xavier initialisation. A layer followed by ReLU or leaky
// ReLU gets He (normal, std √(2/fan_in)); any other gets Xavier/Glorot (uniform,
// ±√(6/(fan_in + fan_out))). Biases start at zero.

/// Draws initial weights from one seeded generator, layer after layer.
struct WeightInitializer {
    var random: SplitMix64
    /// Whether the layer being built feeds a rectifier.
    var rectified = false

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func weights(count: Int, fanIn: Int, fanOut: Int) -> [Float] {
        if rectified {
            let std = (2 / Float(max(fanIn, 1))).squareRoot()
            return (0..<count).map { _ in random.nextNormal() * std }
        }
        let limit = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
        return (0..<count).map { _ in (random.nextUnit() * 2 - 1) * limit }
    }
}
