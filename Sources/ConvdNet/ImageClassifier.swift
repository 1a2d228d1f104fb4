// ImageClassifier: what the pipeline needs of a model — class names and probabilities per
// image — so convd's own models and imported ONNX graphs go everywhere a model goes.
import ConvdCore

/// A model that classifies images.
public protocol ImageClassifier: AnyObject {
    /// Class names, one per output.
    var labels: [String] { get }
    /// Probabilities per class for images on the unit scale (any size and 1 or 3 channels;
    /// each classifier prepares them its own way).
    func classify(_ images: [Tensor], threads: Int) -> [[Float]]
}

extension Model: ImageClassifier {}
