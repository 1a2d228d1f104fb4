// Model: a network with what is needed to use it — the input it expects, the class labels —
// and how it was made (provenance), as a model file stores them.
import ConvdCore

/// A trained (or training) classifier.
public final class Model {
    /// The layers and weights.
    public let network: Network
    /// How images become inputs.
    public var input: InputSpec
    /// Class names, one per output.
    public var labels: [String]
    /// Free-form facts of training: dataset, epochs, seed, accuracy, ...
    public var provenance: [String: String]

    /// A model.
    public init(network: Network, input: InputSpec, labels: [String], provenance: [String: String] = [:]) {
        self.network = network
        self.input = input
        self.labels = labels
        self.provenance = provenance
    }

    /// Probabilities per class for images on the unit scale (any size; they are prepared first).
    public func classify(_ images: [Tensor], threads: Int = 1) -> [[Float]] {
        network.predict(images.map(input.prepare), threads: threads)
    }
}

/// One classification: the top labels with their probabilities, best first.
public struct Classification: Sendable, Equatable {
    /// (label, probability), best first.
    public let top: [(String, Float)]

    /// The best label.
    public var label: String { top.first?.0 ?? "" }
    /// Its probability.
    public var confidence: Float { top.first?.1 ?? 0 }

    /// The `k` best of `probabilities` under `labels`.
    public init(probabilities: [Float], labels: [String], k: Int) {
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1]
            || (probabilities[$0] == probabilities[$1] && $0 < $1) }
        top = order.prefix(max(1, k)).map { ($0 < labels.count ? labels[$0] : String($0), probabilities[$0]) }
    }

    public static func == (a: Classification, b: Classification) -> Bool {
        a.top.map(\.0) == b.top.map(\.0) && a.top.map(\.1) == b.top.map(\.1)
    }
}
