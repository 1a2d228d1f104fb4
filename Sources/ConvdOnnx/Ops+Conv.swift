// Conv: 2-D convolution (ONNX's is a correlation) with groups, strides, dilations, asymmetric
// or automatic pads and an optional bias, over N×C×H×W. With constant weights, one group or
// depthwise, it runs on the blocked kernels (BlockedConv); otherwise each group is an im2col +
// SGEMM on convd's GEMM, and a depthwise convolution a direct loop per channel. An activation
// that import fused into the node (a ReLU, or a Clip such as ReLU6) is applied as the output
// is stored, or in place after.
import CConvKernels
import ConvdCore

/// An activation folded into the operator before it, applied in place.
enum FusedActivation: Equatable, Sendable {
    case none
    case clip(Float, Float)

    /// Values below `low` become `low`, above `high` `high`; NaN and −0 (for a ReLU) pass
    /// unchanged, as the Relu and Clip operators leave them.
    func apply(_ values: inout [Float]) {
        guard case let .clip(low, high) = self else { return }
        for i in values.indices {
            let v = values[i]
            values[i] = v < low ? low : v > high ? high : v
        }
    }
}

/// What a Conv node computes, with its constant weights.
struct ConvGeometry: Sendable {
    let batch: Int
    let channels: Int
    let outputs: Int
    let groups: Int
    let window: SpatialWindow
    var activation: FusedActivation
}

extension Operators {
    static let convolution: [String: [(Int, Builder)]] = [
        "Conv": [(1, conv)],
    ]

    static let conv: Builder = { b throws(Unsupported) in
        let x = try b.floatInput(0), w = try b.floatInput(1)
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw .shape("only 2-D convolutions (4-D input and weights) are supported; input is "
                         + x.shape.shapeText)
        }
        let groups = try b.int("group", 1)
        let c = x.shape[1], m = w.shape[0]
        guard groups >= 1, c % groups == 0, m % groups == 0, w.shape[1] == c / groups else {
            throw .shape("weights \(w.shape.shapeText) do not fit \(c) input channels in \(groups) group(s)")
        }
        let kernel = try b.ints("kernel_shape") ?? Array(w.shape[2...])
        guard kernel == Array(w.shape[2...]) else { throw .shape("kernel_shape \(kernel) does not match the weights") }
        let window = try SpatialWindow(b, input: Array(x.shape[2...]), kernel: kernel)
        if let bias = b.optionalInput(2) {
            guard bias.type == .float, bias.shape == [m] else { throw .shape("bias must have \(m) values") }
        }
        let fused = try fusedActivation(b)
        let geometry = ConvGeometry(batch: x.shape[0], channels: c, outputs: m, groups: groups, window: window,
                                    activation: fused)
        let out = [x.shape[0], m] + window.output
        // Constant weights, one group or depthwise: the blocked kernels, weights packed once, here.
        if let weights = w.constant, b.optionalInput(2).map({ $0.constant != nil }) ?? true,
           let blocked = BlockedConv(weights: weights.floats, bias: b.optionalInput(2)?.constant?.floats, channels: c,
                                     outputs: m, groups: groups, window: window) {
            let kernelFn = Kernel(takesBlocked: true) { inputs, threads in
                [runBlocked(inputs[0]!, blocked, geometry, threads: threads)]
            }
            return Built(kernel: kernelFn, outputs: [ValueInfo(type: .float, shape: out)], scratchBytes: blocked.scratchBytes)
        }
        let kernelFn = Kernel { inputs, threads in
            [runConv(inputs[0]!, weights: inputs[1]!.floats, bias: inputs.count > 2 ? inputs[2]?.floats : nil,
                     geometry, threads: threads)]
        }
        // The im2col rows of one group (none for depthwise and pointwise convolutions).
        let rows = c / groups * kernel.reduce(1, *), plane = window.output.reduce(1, *)
        let unfolded = (c == groups && m == groups) || (kernel == [1, 1] && window.strides == [1, 1]
                                                        && window.padBegin == [0, 0] && window.padEnd == [0, 0])
            ? 0 : rows * plane * 4
        return Built(kernel: kernelFn, outputs: [ValueInfo(type: .float, shape: out)], scratchBytes: unfolded)
    }

    /// The activation import fused into this node (`convd.clip` = [low, high]).
    static func fusedActivation(_ b: NodeBuild) throws(Unsupported) -> FusedActivation {
        guard case .floats(let bounds)? = b.node.attributes[Fusion.clipAttribute], bounds.count == 2 else { return .none }
        return .clip(bounds[0], bounds[1])
    }

    /// A Conv on the blocked kernels, its output blocked; a fused ReLU or ReLU6 runs in the
    /// kernel, any other clamp after it.
    static func runBlocked(_ x: OnnxTensor, _ conv: BlockedConv, _ g: ConvGeometry, threads: Int) -> OnnxTensor {
        var relu = false, high: Float?, rest = g.activation
        if case let .clip(low, top) = g.activation, low == 0 {
            relu = true
            high = top.isFinite ? top : nil
            rest = .none
        }
        var out = conv.run(x, relu: relu, high: high, threads: threads)
        rest.apply(&out.floats)
        return out
    }

    static func runConv(_ x: OnnxTensor, weights: [Float], bias: [Float]?, _ g: ConvGeometry, threads: Int)
        -> OnnxTensor {
        let win = g.window
        let (h, w) = (win.input[0], win.input[1]), (oh, ow) = (win.output[0], win.output[1])
        let cg = g.channels / g.groups, mg = g.outputs / g.groups
        let k = cg * win.kernel[0] * win.kernel[1], plane = oh * ow
        var out = [Float](repeating: 0, count: g.batch * g.outputs * plane)
        let depthwise = cg == 1 && mg == 1
        let pointwise = win.kernel == [1, 1] && win.strides == [1, 1] && win.padBegin == [0, 0] && win.padEnd == [0, 0]
        var col = [Float](repeating: 0, count: depthwise || pointwise ? 0 : k * plane)
        x.floats.withUnsafeBufferPointer { xp in
            weights.withUnsafeBufferPointer { wp in
                out.withUnsafeMutableBufferPointer { op in
                    for n in 0..<g.batch {
                        if depthwise {
                            let xs = SharedReadPointer(xp.baseAddress! + n * g.channels * h * w)
                            let ws = SharedReadPointer(wp.baseAddress!)
                            let os = SharedPointer(op.baseAddress! + n * g.outputs * plane)
                            parallelFor(g.channels, threads: plane * win.kernel[0] * win.kernel[1] * g.channels
                                        > BlockedConv.parallelWork ? threads : 1) { range in
                                for ch in range {
                                    convd_depthwise_plane(xs.pointer + ch * h * w, Int32(h), Int32(w), ws.pointer + ch * k,
                                                          Int32(win.kernel[0]), Int32(win.kernel[1]),
                                                          Int32(win.strides[0]), Int32(win.strides[1]),
                                                          Int32(win.dilations[0]), Int32(win.dilations[1]),
                                                          Int32(win.padBegin[0]), Int32(win.padBegin[1]),
                                                          bias?[ch] ?? 0, os.pointer + ch * plane, Int32(oh), Int32(ow))
                                }
                            }
                            continue
                        }
                        for group in 0..<g.groups {
                            let input = xp.baseAddress! + (n * g.channels + group * cg) * h * w
                            let target = op.baseAddress! + (n * g.outputs + group * mg) * plane
                            let product = { (source: UnsafePointer<Float>) in
                                parallelGEMM(m: mg, n: plane, k: k, a: wp.baseAddress! + group * mg * k, lda: k,
                                             b: source, ldb: plane,
                                             c: target, ldc: plane,
                                             threads: threads)
                            }
                            if pointwise {
                                product(input)
                            } else {
                                col.withUnsafeMutableBufferPointer { cp in
                                    im2col(input, cg, win, cp.baseAddress!)
                                    product(UnsafePointer(cp.baseAddress!))
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias, !depthwise {
            for n in 0..<g.batch {
                for m in 0..<g.outputs {
                    let base = (n * g.outputs + m) * plane, v = bias[m]
                    for i in base..<(base + plane) { out[i] += v }
                }
            }
        }
        g.activation.apply(&out)
        return OnnxTensor(shape: [g.batch, g.outputs, oh, ow], floats: out)
    }

    /// Unfolds `channels` planes into rows of (channel, ky, kx) by output pixel; padding is 0.
    static func im2col(_ x: UnsafePointer<Float>, _ channels: Int, _ win: SpatialWindow, _ col: UnsafeMutablePointer<Float>) {
        let (h, w) = (win.input[0], win.input[1]), (oh, ow) = (win.output[0], win.output[1])
        var row = 0
        for c in 0..<channels {
            for ky in 0..<win.kernel[0] {
                for kx in 0..<win.kernel[1] {
                    let dst = col + row * oh * ow
                    for oy in 0..<oh {
                        let iy = oy * win.strides[0] - win.padBegin[0] + ky * win.dilations[0]
                        let line = dst + oy * ow
                        guard iy >= 0 && iy < h else {
                            line.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = x + (c * h + iy) * w
                        for ox in 0..<ow {
                            let ix = ox * win.strides[1] - win.padBegin[1] + kx * win.dilations[1]
                            line[ox] = ix >= 0 && ix < w ? src[ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
