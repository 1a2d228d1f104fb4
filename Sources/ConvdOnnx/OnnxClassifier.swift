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

    /// Mean cross-entropy and the evaluation over `data`, whose images the loader has already
    /// brought to the input size (stretched): the resize rule is not applied a second time.
    public func evaluate(on data: Dataset, threads: Int) -> (loss: Float, evaluation: Evaluation) {
        var predicted: [Int] = [], lossSum: Float = 0
        let size = data.sampleSize, shape = data.shape
        var prepare = preprocessing
        prepare.resize = .stretch
        for i in 0..<data.count {
            let image = Tensor(channels: shape.channels, height: shape.height, width: shape.width,
                               scalars: Array(data.pixels[(i * size)..<((i + 1) * size)]))
            let p = probabilities(prepare.prepare(image), threads: threads)
            predicted.append(p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) } ?? 0)
            lossSum -= log(max(p[data.labels[i]], 1e-12))
        }
        return (lossSum / Float(max(data.count, 1)),
                Evaluation(classNames: data.classNames, truth: data.labels, predicted: predicted))
    }

    static func softmax(_ v: [Float]) -> [Float] {
        let high = v.max() ?? 0
        let e = v.map { expf($0 - high) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
