// ChainError: why a filter chain cannot be parsed or cannot take an input shape, naming the
// step, e.g. `step 3 "conv(sobel-q)": unknown kernel "sobel-q" (did you mean "sobel-x"?)`.

/// A chain problem, with the 1-based step number and that step's text when known.
public struct ChainError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 1-based step index, or nil for problems of the whole chain.
    public let step: Int?
    /// The step as written.
    public let text: String?
    /// What is wrong.
    public let message: String

    /// An error about step `step` (1-based) written as `text`.
    public init(step: Int?, text: String?, message: String) {
        self.step = step
        self.text = text
        self.message = message
    }

    /// `step N "TEXT": MESSAGE`, or just the message for the whole chain.
    public var description: String {
        guard let step, let text else { return message }
        return "step \(step) \"\(text)\": \(message)"
    }
}

/// "did you mean" help: the closest candidate within a small edit distance.
enum Suggestion {
    /// ` (did you mean "x"?)` or an empty string.
    static func hint(for word: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, distance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored, score <= max(2, word.count / 3) else { return "" }
        return " (did you mean \"\(best)\"?)"
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
