// Conv2DLayer: K filters of kH×kW over all C input channels, with stride, zero padding,
// dilation and an optional bias (conv-semantics.md §1–2, §6).
//
// Shapes: input C×N×H×W, weights K×C×kH×kW, bias K, output K×N×OH×OW.
// Forward: unfold the batch (im2col, Conv2DLayer+Im2col.swift) into (C·kH·kW)×(N·OH·OW) and
// multiply: Y = W · cols (+ b), one GEMM per batch whose result is already K×N×OH×OW.
// Where the blocked kernel applies (Conv2DLayer+Blocked.swift) the forward pass runs on it
// instead, in training too when at most half of its 16 filter lanes are padding (about half
// the time of unfold + GEMM), and keeps the input, from which backward computes ∂W on the
// blocked weight-gradient kernel (Conv2DLayer+WeightGradient.swift): no unfolded input at
// all. Otherwise the unfolded input is cached. In inference mode nothing is cached.
// Backward: ∂W += ∂Y · colsᵀ (or the blocked kernel's equal), ∂b += Σ ∂Y, and ∂X — at
// stride 1 ∂L/∂X = pad(∂L/∂Z) ⋆ rot180(K) on the blocked kernel (Conv2DLayer+Blocked.swift),
// else its GEMM form, ∂cols = Wᵀ · ∂Y folded back (col2im); nothing for the network's first
// layer, whose ∂X nobody reads.
import ConvdCore

/// A convolution layer (correlation; CNN layers never flip).
public final class Conv2DLayer: Layer {
    public let spec: LayerSpec
    public let inputShape: SampleShape
    public let outputShape: SampleShape
    /// K×C×kH×kW.
    public let weight: Parameter
    /// K values, or nil without bias.
    public let bias: Parameter?
    let filters: Int
    let size: Int
    let rows: AxisWindow
    let columns: AxisWindow
    private var cachedColumns: [Float] = []
    /// The input of a training forward pass that ran blocked, for the weight gradient.
    private var forwardInput: BatchTensor?
    /// ∂cols of the GEMM data gradient, kept from batch to batch.
    private var gradientColumns: [Float] = []
    private var cachedBatch = 0
    /// Packed weights and workspaces of the blocked inference forward pass and data gradient
    /// (Conv2DLayer+Blocked.swift).
    let blocked = BlockedConvState()
    let blockedGradient = BlockedConvState()
    /// Workspaces of the blocked weight gradient (Conv2DLayer+WeightGradient.swift).
    let weightGradientState = BlockedConvState()
    /// The training forward pass's staged inputs, which the blocked weight gradient reads.
    let stagedInputs = StagedBatch()

    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    /// A layer for inputs of `input`, weights drawn from `initializer`.
    init(index: Int, spec: LayerSpec, input: SampleShape, initializer: inout WeightInitializer) {
        guard case let .conv2d(filters, size, stride, padding, dilation, hasBias) = spec else {
            preconditionFailure("Conv2DLayer needs a conv2d spec")
        }
        self.spec = spec
        self.filters = filters
        self.size = size
        inputShape = input
        rows = AxisWindow(inputSize: input.height, kernelSize: size, stride: stride, dilation: dilation,
                          padding: .explicit(padding))
        columns = AxisWindow(inputSize: input.width, kernelSize: size, stride: stride, dilation: dilation,
                             padding: .explicit(padding))
        outputShape = SampleShape(channels: filters, height: rows.outputSize, width: columns.outputSize)
        let fanIn = input.channels * size * size
        weight = Parameter(name: "layers.\(index).weight", shape: [filters, input.channels, size, size],
                           value: initializer.weights(count: filters * fanIn, fanIn: fanIn,
                                                      fanOut: filters * size * size),
                           decays: true)
        bias = hasBias ? Parameter(name: "layers.\(index).bias", shape: [filters],
                                   value: [Float](repeating: 0, count: filters), decays: false) : nil
    }

    /// Rows of the unfolded input: C·kH·kW.
    var patchSize: Int { inputShape.channels * size * size }

    public func forward(_ input: BatchTensor, context: inout LayerContext) -> BatchTensor {
        if context.blockedConvolution && (context.training ? trainingForwardRunsBlocked : runsBlocked) {
            // Training keeps the input (and its staged blocked maps) for the blocked weight
            // gradient, or the unfolded input.
            let keepsInput = context.training && weightGradientRunsBlocked
            if context.training {
                cachedBatch = input.batch
                if keepsInput {
                    forwardInput = input
                } else {
                    unfold(input, into: &cachedColumns, threads: context.threads)
                    forwardInput = nil
                }
            }
            return blockedForward(input, threads: context.threads, keepsStaged: keepsInput)
        }
        let n = input.batch
        let columnsCount = n * outputShape.height * outputShape.width
        unfold(input, into: &cachedColumns, threads: context.threads)
        forwardInput = nil
        cachedBatch = n
        var output = BatchTensor(channels: filters, batch: n, height: outputShape.height, width: outputShape.width)
        weight.value.withUnsafeBufferPointer { w in
            cachedColumns.withUnsafeBufferPointer { cols in
                output.data.withUnsafeMutableBufferPointer { y in
                    parallelGEMM(m: filters, n: columnsCount, k: patchSize, a: w.baseAddress!, lda: patchSize,
                                 b: cols.baseAddress!, ldb: columnsCount, c: y.baseAddress!, ldc: columnsCount,
                                 threads: context.threads)
                    if let bias {
                        for k in 0..<filters {
                            let b = bias.value[k], row = y.baseAddress! + k * columnsCount
                            for i in 0..<columnsCount { row[i] += b }
                        }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ gradient: BatchTensor, context: inout LayerContext) -> BatchTensor {
        let n = cachedBatch
        let columnsCount = n * outputShape.height * outputShape.width
        // ∂X: not wanted (the network's first layer), the blocked kernel on flipped weights, or
        // Wᵀ·∂Y folded back (strides above 1).
        let wantsInput = context.inputGradient
        let blockedInput = wantsInput && context.blockedConvolution && inputGradientRunsBlocked
        let unfoldsInput = wantsInput && !blockedInput
        if unfoldsInput && gradientColumns.count != patchSize * columnsCount {
            gradientColumns = [Float](repeating: 0, count: patchSize * columnsCount)
        }
        if let input = forwardInput {
            blockedWeightGradient(input: input, gradient: gradient, threads: context.threads)
            forwardInput = nil
        } else {
            gradient.data.withUnsafeBufferPointer { dy in
                cachedColumns.withUnsafeBufferPointer { cols in
                    weight.gradient.withUnsafeMutableBufferPointer { dw in
                        parallelGEMM(transposeB: true, m: filters, n: patchSize, k: columnsCount, a: dy.baseAddress!,
                                     lda: columnsCount, b: cols.baseAddress!, ldb: columnsCount, beta: 1,
                                     c: dw.baseAddress!, ldc: patchSize, threads: context.threads)
                    }
                }
            }
        }
        gradient.data.withUnsafeBufferPointer { dy in
            if unfoldsInput {
                weight.value.withUnsafeBufferPointer { w in
                    gradientColumns.withUnsafeMutableBufferPointer { dcols in
                        parallelGEMM(transposeA: true, m: patchSize, n: columnsCount, k: filters, a: w.baseAddress!,
                                     lda: patchSize, b: dy.baseAddress!, ldb: columnsCount, c: dcols.baseAddress!,
                                     ldc: columnsCount, threads: context.threads)
                    }
                }
            }
            if let bias {
                for k in 0..<filters {
                    bias.gradient[k] += Float(VectorOps.sum(dy.baseAddress! + k * columnsCount, count: columnsCount))
                }
            }
        }
        if blockedInput { return blockedInputGradient(gradient, threads: context.threads) }
        guard unfoldsInput else {
            return BatchTensor(channels: inputShape.channels, batch: 0, height: inputShape.height, width: inputShape.width)
        }
        return fold(gradientColumns, batch: n, threads: context.threads)
    }
}
