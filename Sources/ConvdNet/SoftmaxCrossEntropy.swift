// SoftmaxCrossEntropy: the classifier's output and loss. Logits K×N (classes × batch);
// p = softmax over classes (max-subtracted for stability); loss = −(1/N) Σₙ log p[yₙ, n];
// ∂loss/∂logits = (p − onehot(y)) / N. With label smoothing ε the target is
// t = (1 − ε)·onehot(y) + ε/K: loss = −(1/N) Σₙ Σₖ t[k, n] log p[k, n], gradient (p − t) / N.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax with cross-entropy loss.
public enum SoftmaxCrossEntropy {
    /// Class probabilities, K×N, from logits K×N.
    public static func probabilities(_ logits: BatchTensor) -> BatchTensor {
        let k = logits.channels, n = logits.batch
        var p = logits
        for s in 0..<n {
            var top = -Float.infinity
            for c in 0..<k { top = max(top, logits.data[c * n + s]) }
            var sum: Float = 0
            for c in 0..<k {
                let e = expf(logits.data[c * n + s] - top)
                p.data[c * n + s] = e
                sum += e
            }
            for c in 0..<k { p.data[c * n + s] /= sum }
        }
        return p
    }

    /// The mean loss, ∂loss/∂logits and the number of correct arg-max predictions; `smoothing`
    /// (ε in [0, 1)) spreads that much of each target over all classes.
    public static func loss(logits: BatchTensor, labels: [Int], smoothing: Float = 0)
        -> (loss: Float, gradient: BatchTensor, correct: Int) {
        let k = logits.channels, n = logits.batch
        var p = probabilities(logits)
        var loss: Float = 0, correct = 0
        let spread = smoothing / Float(k), hit = 1 - smoothing + spread
        for s in 0..<n {
            let y = labels[s]
            if smoothing == 0 {
                loss -= logf(max(p.data[y * n + s], 1e-12))
            } else {
                for c in 0..<k { loss -= (c == y ? hit : spread) * logf(max(p.data[c * n + s], 1e-12)) }
            }
            var best = 0
            for c in 1..<k where p.data[c * n + s] > p.data[best * n + s] { best = c }
            if best == y { correct += 1 }
        }
        for s in 0..<n {
            if smoothing == 0 {
                p.data[labels[s] * n + s] -= 1
            } else {
                for c in 0..<k { p.data[c * n + s] -= c == labels[s] ? hit : spread }
            }
        }
        for i in p.data.indices { p.data[i] /= Float(n) }
        return (loss / Float(n), p, correct)
    }
}
