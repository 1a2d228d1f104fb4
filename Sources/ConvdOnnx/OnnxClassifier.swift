// OnnxClassifier: an imported graph with its preprocessing and labels, classifying one image
// per run. Immutable, so the daemon's workers share one instance.
import ConvdCore
import ConvdNet
import Foundation

/// An ONNX model ready to classify images.
public final class OnnxClassifier: ImageClassifier, Sendable {
    public let graph: OnnxGraph
    public let preprocessing: Preprocessing
    public let labels: [String]
    /// Whether the graph's output is already probabilities (it ends in Softmax); otherwise
    /// softmax is applied to its scores.
    public let outputsProbabilities: Bool
    /// Where the labels came from: the `.toml`, a labels file, the model's metadata, or none.
    public let labelSource: String

    public init(graph: OnnxGraph, preprocessing: Preprocessing, labels: [String], outputsProbabilities: Bool,
                labelSource: String) {
        self.graph = graph
        self.preprocessing = preprocessing
        self.labels = labels
        self.outputsProbabilities = outputsProbabilities
        self.labelSource = labelSource
    }

    /// Scores per class of one prepared input: the first output, flattened.
    public func scores(_ input: OnnxTensor, threads: Int = 1) -> [Float] {
        graph.run([input], threads: threads)[0].asFloats
    }

    public func classify(_ images: [Tensor], threads: Int) -> [[Float]] {
        images.map { image in probabilities(preprocessing.prepare(image), threads: threads) }
    }

    /// Probabilities per class of one prepared input.
    public func probabilities(_ input: OnnxTensor, threads: Int = 1) -> [Float] {
        let scores = scores(input, threads: threads)
        return outputsProbabilities ? scores : Self.softmax(scores)
    }

    static func softmax(_ v: [Float]) -> [Float] {
        let high = v.max() ?? 0
        let e = v.map { expf($0 - high) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
