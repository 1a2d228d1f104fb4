// Optimizer: SGD with momentum and Adam, both with L2 weight decay on weights (not biases or
// normalisation); AdamW, Adam with the decay decoupled from the gradient (Loshchilov & Hutter:
// θ ← θ − η·λ·θ before the Adam step, as PyTorch's AdamW); and the learning-rate schedules
// (constant, step, cosine, linear warm-up then cosine).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which update rule.
public enum OptimizerKind: String, Sendable, CaseIterable, Codable {
    case sgd
    case adam
    case adamw
}

/// How the learning rate changes with the epoch.
public enum LearningRateSchedule: Sendable, Equatable {
    /// The same rate throughout.
    case constant
    /// Multiply by `factor` every `every` epochs.
    case step(every: Int, factor: Float)
    /// Half a cosine from the base rate to 0 over the run.
    case cosine
    /// A linear rise to the base rate over the first `warmup` epochs, batch by batch (from 1 %),
    /// then half a cosine to 0 over the rest.
    case warmupCosine(warmup: Int)

    /// The rate for `epoch` (0-based) of `epochs`.
    public func rate(base: Float, epoch: Int, epochs: Int) -> Float {
        rate(base: base, progress: Double(epoch), epochs: epochs)
    }

    /// The rate at `progress` epochs into the run (epoch + fraction of its batches done). The
    /// first three schedules change only at epoch boundaries.
    public func rate(base: Float, progress: Double, epochs: Int) -> Float {
        let epoch = Int(progress)
        switch self {
        case .constant: return base
        case let .step(every, factor): return base * powf(factor, Float(epoch / max(every, 1)))
        case .cosine: return base * 0.5 * (1 + cosf(Float.pi * Float(epoch) / Float(max(epochs, 1))))
        case .warmupCosine(let warmup):
            let w = Double(min(max(warmup, 0), max(epochs - 1, 0)))
            if progress < w { return base * Float(max(progress / w, 0.01)) }
            let t = (progress - w) / max(Double(epochs) - w, 1e-9)
            return base * Float(0.5 * (1 + cos(Double.pi * min(t, 1))))
        }
    }

    /// Whether the rate changes inside an epoch.
    var changesPerBatch: Bool {
        if case .warmupCosine = self { return true }
        return false
    }
}

/// Updates parameters from their gradients.
public final class Optimizer {
    public let kind: OptimizerKind
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    let beta1: Float = 0.9
    let beta2: Float = 0.999
    let epsilon: Float = 1e-8
    private var step = 0
    /// Per parameter: the first moment (SGD: the velocity) and Adam's second moment.
    private var moments: [ObjectIdentifier: Moments] = [:]

    /// An optimizer; `momentum` is SGD's (Adam uses β₁ = 0.9, β₂ = 0.999).
    public init(kind: OptimizerKind, learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// Applies one update to every parameter and clears the gradients.
    public func update(_ parameters: [Parameter]) {
        step += 1
        let lr = learningRate, momentum = momentum, beta1 = beta1, beta2 = beta2, epsilon = epsilon
        let correction1 = 1 - powf(beta1, Float(step)), correction2 = 1 - powf(beta2, Float(step))
        for p in parameters {
            let id = ObjectIdentifier(p)
            let state = moments[id] ?? Moments(count: p.value.count, adam: kind != .sgd)
            moments[id] = state
            precondition(state.first.count == p.value.count && p.gradient.count == p.value.count,
                         "optimizer state does not match parameter \(p.name)")
            // AdamW shrinks the weights directly; the others add the decay to the gradient (L2).
            let decay = p.decays && kind != .adamw ? weightDecay : 0, kind = kind
            let shrink = p.decays && kind == .adamw ? 1 - lr * weightDecay : 1
            // One borrow of each array per parameter (one version bump), then plain loops.
            p.value.withUnsafeMutableBufferPointer { value in
                p.gradient.withUnsafeMutableBufferPointer { gradient in
                    state.first.withUnsafeMutableBufferPointer { m in
                        state.second.withUnsafeMutableBufferPointer { v in
                            for i in 0..<value.count {
                                let g = gradient[i] + decay * value[i]
                                switch kind {
                                case .sgd:
                                    m[i] = momentum * m[i] + g
                                    value[i] -= lr * m[i]
                                case .adam, .adamw:
                                    value[i] *= shrink
                                    m[i] = beta1 * m[i] + (1 - beta1) * g
                                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                                    value[i] -= lr * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + epsilon)
                                }
                                gradient[i] = 0
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One parameter's optimizer state, updated in place.
private final class Moments {
    var first: [Float]
    var second: [Float]

    init(count: Int, adam: Bool) {
        first = [Float](repeating: 0, count: count)
        second = [Float](repeating: 0, count: adam ? count : 0)
    }

}
