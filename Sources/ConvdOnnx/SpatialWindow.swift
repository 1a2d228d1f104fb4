// SpatialWindow: the geometry ONNX's Conv, MaxPool and AveragePool share over the two spatial
// axes of an N×C×H×W tensor — kernel, strides, dilations, pads (explicit and asymmetric, or
// auto_pad), and the output size in floor or ceil mode.

struct SpatialWindow: Equatable {
    /// The largest kernel size, stride, dilation or pad accepted: far beyond any real model,
    /// small enough that no window arithmetic can overflow.
    static let maxAttribute = 1 << 20

    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padBegin: [Int]
    var padEnd: [Int]
    var input: [Int]
    var output: [Int]

    /// The window of node `b` over `input` (H, W) with kernel `kernel`.
    init(_ b: NodeBuild, input: [Int], kernel: [Int], ceilMode: Bool = false, allowDilations: Bool = true)
        throws(Unsupported) {
        let n = input.count
        self.input = input
        self.kernel = kernel
        strides = try b.ints("strides") ?? [Int](repeating: 1, count: n)
        dilations = allowDilations ? try b.ints("dilations") ?? [Int](repeating: 1, count: n)
            : [Int](repeating: 1, count: n)
        guard kernel.count == n, strides.count == n, dilations.count == n else {
            throw .attribute("kernel_shape, strides and dilations must have \(n) values")
        }
        guard (kernel + strides + dilations).allSatisfy({ $0 >= 1 && $0 <= Self.maxAttribute }) else {
            throw .attribute("kernel_shape, strides and dilations must be between 1 and \(Self.maxAttribute)")
        }
        guard input.allSatisfy({ $0 >= 1 }) else { throw .shape("the input \(input) has an empty spatial axis") }
        let span = zip(kernel, dilations).map { ($0 - 1) * $1 + 1 }
        let autoPad = try b.string("auto_pad", "NOTSET")
        switch autoPad {
        case "NOTSET":
            let pads = try b.ints("pads") ?? [Int](repeating: 0, count: 2 * n)
            guard pads.count == 2 * n, pads.allSatisfy({ $0 >= 0 && $0 <= Self.maxAttribute }) else {
                throw .attribute("pads must be \(2 * n) values between 0 and \(Self.maxAttribute)")
            }
            padBegin = Array(pads[0..<n])
            padEnd = Array(pads[n...])
        case "VALID":
            padBegin = [Int](repeating: 0, count: n)
            padEnd = padBegin
        case "SAME_UPPER", "SAME_LOWER":
            padBegin = []
            padEnd = []
            for d in 0..<n {
                let out = (input[d] + strides[d] - 1) / strides[d]
                let total = max(0, (out - 1) * strides[d] + span[d] - input[d])
                let small = total / 2
                padBegin.append(autoPad == "SAME_UPPER" ? small : total - small)
                padEnd.append(autoPad == "SAME_UPPER" ? total - small : small)
            }
        default:
            throw .attribute("auto_pad \"\(autoPad)\" is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
        }
        output = []
        for d in 0..<n {
            let room = input[d] + padBegin[d] + padEnd[d] - span[d]
            guard room >= 0 else {
                throw .shape("the window (\(span[d]) wide) is larger than the padded input (\(room + span[d]))")
            }
            var out = (ceilMode ? (room + strides[d] - 1) / strides[d] : room / strides[d]) + 1
            // In ceil mode a last window that would start in the end padding is dropped.
            if ceilMode && (out - 1) * strides[d] >= input[d] + padBegin[d] { out -= 1 }
            output.append(out)
        }
    }

    /// The kernel shape from the `kernel_shape` attribute.
    static func kernelShape(_ b: NodeBuild, rank: Int) throws(Unsupported) -> [Int] {
        guard let k = try b.ints("kernel_shape") else { throw .attribute("kernel_shape is missing") }
        guard k.count == rank else { throw .attribute("kernel_shape has \(k.count) values for \(rank) spatial axes") }
        return k
    }
}
