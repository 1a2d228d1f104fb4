// FilterChain: an ordered list of steps, parsed from the one-line syntax of DESIGN.md §3
// (FilterChain+Parse.swift), shape-checked before any image is touched and applied step by
// step.

/// A parsed filter chain.
public struct FilterChain: Sendable, Equatable {
    /// One step: its text as written (for errors) and what it does.
    public struct Entry: Sendable, Equatable {
        /// The step as written, trimmed.
        public let text: String
        /// The operator.
        public let step: ChainStep
    }

    /// The steps in order.
    public let entries: [Entry]

    /// A chain of the given steps.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The shape after every step for an input of `input` (the last is the output), or the
    /// first step that cannot take what it receives or would make more than
    /// `ChainLimits.maxElements` values.
    public func shapes(for input: TensorShape) throws(ChainError) -> [TensorShape] {
        guard let count = CheckedSize.product(input.channels, input.height, input.width),
              count <= ChainLimits.maxElements else {
            throw ChainError(step: nil, text: nil, message: "the input \(input) is over the limit of "
                             + "\(ChainLimits.maxElements) values")
        }
        var shape = input
        var shapes: [TensorShape] = []
        for (index, entry) in entries.enumerated() {
            switch entry.step.outputShape(for: shape) {
            case .success(let next):
                // Checked before the next step multiplies channels again, so nothing overflows.
                let values = CheckedSize.product(next.channels, next.height, next.width)
                guard let values, values <= ChainLimits.maxElements else {
                    throw ChainError(step: index + 1, text: Self.excerpt(entry.text), message: "the output \(next) "
                                     + "has \(values.map(String.init) ?? "too many") values, over the limit of "
                                     + "\(ChainLimits.maxElements) (input \(shape))")
                }
                shape = next
                shapes.append(next)
            case .failure(let problem):
                throw ChainError(step: index + 1, text: Self.excerpt(entry.text),
                                 message: "\(problem.message) (input \(shape))")
            }
        }
        return shapes
    }

    /// The output shape for an input of `input`.
    public func outputShape(for input: TensorShape) throws(ChainError) -> TensorShape {
        try shapes(for: input).last ?? input
    }

    /// Checks the chain for the inputs convd decodes (1 gray or 3 colour channels) of a
    /// generous size, so that a chain that fits neither fails before any image is read.
    public func checkForImages() throws(ChainError) {
        let size = 4096
        do {
            _ = try outputShape(for: TensorShape(channels: 1, height: size, width: size))
        } catch {
            _ = try outputShape(for: TensorShape(channels: 3, height: size, width: size))
        }
    }

    /// Runs every step on `input`, checking shapes first.
    public func apply(_ input: Tensor, threads: Int = 1) throws(ChainError) -> Tensor {
        _ = try shapes(for: input.shape)
        var value = input
        for entry in entries { value = entry.step.apply(value, threads: threads) }
        return value
    }
}
