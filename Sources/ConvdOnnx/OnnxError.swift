// OnnxError: why a model file cannot be used, naming the file. An import that finds several
// problems reports them all in one error (ImportReport), before any image is read.

/// A model file that cannot be read or run.
public struct OnnxError: Error, CustomStringConvertible, Equatable {
    /// The model file.
    public let path: String
    /// What is wrong; one line, or a headline and indented lines for a report.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `<path>: <reason>`.
    public var description: String { "\(path): \(reason)" }
}

/// One thing in a model that convd cannot run, found while importing.
struct ImportProblem: Equatable {
    enum Kind: Int, Comparable {
        case operatorMissing, attribute, type, shape

        static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    let kind: Kind
    /// For a missing operator: `NonMaxSuppression (opset 11)`, the key it is grouped by.
    let subject: String
    /// The node's name (or its first output when it has none).
    let node: String
    /// What is wrong, for the kinds other than a missing operator.
    let detail: String
}
