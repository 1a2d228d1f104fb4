// Operators: the table of ONNX operators convd runs, each with the opset versions where its
// semantics change. A node uses the builder of the newest version not above its opset, as
// onnxruntime and OpenCV dispatch; a node older than every version listed is unsupported.

enum Operators {
    /// Checks a node and compiles it.
    typealias Builder = @Sendable (NodeBuild) throws(Unsupported) -> Built

    /// Every operator: (first opset of these semantics, builder), oldest first.
    static let table: [String: [(Int, Builder)]] = elementwise
        .merging(convolution) { a, _ in a }
        .merging(pooling) { a, _ in a }
        .merging(linear) { a, _ in a }
        .merging(layout) { a, _ in a }
        .merging(shapes) { a, _ in a }
        .merging(reduction) { a, _ in a }
        .merging(resizing) { a, _ in a }

    /// The builder for `op` at `opset`, or nil.
    static func builder(_ op: String, opset: Int) -> Builder? {
        table[op]?.last { $0.0 <= opset }?.1
    }
}
