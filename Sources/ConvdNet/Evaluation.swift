// Evaluation: accuracy, the confusion matrix (rows = true class, columns = predicted) and
// per-class precision, recall and F1.

/// How well a model classifies a labelled set.
public struct Evaluation: Sendable, Equatable {
    /// Class names.
    public let classNames: [String]
    /// confusion[true][predicted] counts.
    public let confusion: [[Int]]

    /// Builds the matrix from true and predicted class indexes.
    public init(classNames: [String], truth: [Int], predicted: [Int]) {
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classNames.count), count: classNames.count)
        for (t, p) in zip(truth, predicted) { matrix[t][p] += 1 }
        self.classNames = classNames
        self.confusion = matrix
    }

    /// Samples counted.
    public var total: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Correct predictions.
    public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }
    /// correct / total.
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

    /// Precision, recall, F1 and support of class `c`.
    public func metrics(of c: Int) -> (precision: Double, recall: Double, f1: Double, support: Int) {
        let tp = Double(confusion[c][c])
        let predicted = Double(confusion.reduce(0) { $0 + $1[c] })
        let support = confusion[c].reduce(0, +)
        let precision = predicted > 0 ? tp / predicted : 0
        let recall = support > 0 ? tp / Double(support) : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        return (precision, recall, f1, support)
    }
}
