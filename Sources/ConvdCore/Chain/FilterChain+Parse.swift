// FilterChain+Parse: the meaning of each step name of DESIGN.md §3. Every argument and option
// is checked here, so a chain that parses can only fail later on the shape of an input.
//
//   gray | rgb | magnitude | relu | sigmoid | tanh | abs | leaky_relu(a=0.01)
//   conv(K, ...; padding=same|valid|N, border=zero|replicate|reflect, stride=S, dilation=D,
//        mode=per_channel|sum, flip=false)         K: a named kernel, gaussian(n, sigma), box(n),
//                                                  [[...]] (2-D) or [[[...]]] (3-D, one slice per channel)
//   sobel-x, gaussian(5, 1.0), box(3), ...        shorthand for conv(K) (same options allowed)
//   maxpool(w[, s]; padding=) | avgpool(w[, s]; padding=) | global_maxpool | global_avgpool
//   conv1x1(w1, w2, ...) | normalize(minmax|abs|clip)
//
// Sizes are capped by ChainLimits: kernel sides and pooling windows, padding, stride and
// dilation, steps per chain and nesting per step.

extension FilterChain {
    /// The step names the parser knows, for `--help` and suggestions.
    public static let stepNames: [String] = [
        "gray", "rgb", "conv", "gaussian", "box", "magnitude", "relu", "leaky_relu", "sigmoid", "tanh", "abs",
        "maxpool", "avgpool", "global_maxpool", "global_avgpool", "conv1x1", "normalize",
    ] + NamedKernel.allCases.map(\.rawValue).filter { $0 != "box" }

    /// Parses a chain such as `gray | conv(sobel-x, sobel-y; padding=same) | magnitude`.
    public init(parsing text: String) throws(ChainError) {
        let texts = splitSteps(text)
        guard !(texts.count == 1 && texts[0].isEmpty) else {
            throw ChainError(step: nil, text: nil, message: "empty chain")
        }
        guard texts.count <= ChainLimits.maxSteps else {
            throw ChainError(step: nil, text: nil, message: "the chain has \(texts.count) steps, over the limit of "
                             + "\(ChainLimits.maxSteps)")
        }
        var entries: [Entry] = []
        for (index, stepText) in texts.enumerated() {
            do {
                let raw = try StepParser.parse(stepText)
                entries.append(Entry(text: stepText, step: try Self.interpret(raw)))
            } catch {
                throw ChainError(step: index + 1, text: Self.excerpt(stepText), message: error.message)
            }
        }
        self.init(entries: entries)
    }

    private static func interpret(_ raw: RawStep) throws(ChainSyntaxError) -> ChainStep {
        let name = raw.name
        switch name {
        case "gray", "rgb", "magnitude", "relu", "sigmoid", "tanh", "abs", "global_maxpool", "global_avgpool":
            try expectNoArguments(raw)
            switch name {
            case "gray": return .gray
            case "rgb": return .rgb
            case "magnitude": return .magnitude
            case "relu": return .activation(.relu)
            case "sigmoid": return .activation(.sigmoid)
            case "tanh": return .activation(.tanh)
            case "abs": return .activation(.abs)
            case "global_maxpool": return .globalPool(.max)
            default: return .globalPool(.average)
            }
        case "leaky_relu":
            try expectOptions(raw, allowed: [])
            guard raw.arguments.count <= 1 else { throw ChainSyntaxError(message: "takes one slope, e.g. leaky_relu(0.1)") }
            var slope = 0.01
            if let argument = raw.arguments.first { slope = try number(argument, what: "slope") }
            return .activation(.leakyRelu(try float(slope, what: "slope")))
        case "conv":
            guard !raw.arguments.isEmpty else {
                throw ChainSyntaxError(message: "needs at least one kernel, e.g. conv(sobel-x)")
            }
            return .convolution(try convolution(kernels: raw.arguments.map(kernel), options: raw.options))
        case "maxpool", "avgpool":
            try expectOptions(raw, allowed: ["padding"])
            guard (1...2).contains(raw.arguments.count) else {
                throw ChainSyntaxError(message: "takes a window and an optional stride, e.g. \(name)(2) or \(name)(3, 2)")
            }
            let window = try positiveInteger(raw.arguments[0], what: "\(name) window", max: ChainLimits.maxKernelSize)
            let stride = try raw.arguments.count > 1
                ? positiveInteger(raw.arguments[1], what: "\(name) stride", max: ChainLimits.maxStride) : window
            var pad = Padding.valid
            if let option = raw.options.first { pad = try padding(option.value) }
            return .pool(Pooling(kind: name == "maxpool" ? .max : .average, window: window, stride: stride,
                                 padding: pad))
        case "conv1x1":
            try expectOptions(raw, allowed: [])
            guard !raw.arguments.isEmpty else {
                throw ChainSyntaxError(message: "needs one weight per input channel, e.g. conv1x1(-1, 2, 3)")
            }
            return .conv1x1(try raw.arguments.map { v throws(ChainSyntaxError) in
                try float(try number(v, what: "weight"), what: "weight")
            })
        case "normalize":
            try expectOptions(raw, allowed: [])
            guard raw.arguments.count == 1, case .name(let mode) = raw.arguments[0],
                  let normalization = Normalization(rawValue: mode) else {
                throw ChainSyntaxError(message: "takes one of minmax, abs, clip")
            }
            return .normalize(normalization)
        case "gaussian", "box":
            // Shorthand: the call itself is the kernel; options follow as for conv.
            let k = try kernel(.call(name, raw.arguments))
            return .convolution(try convolution(kernels: [k], options: raw.options))
        default:
            if let named = NamedKernel(rawValue: name) {
                guard raw.arguments.isEmpty else {
                    throw ChainSyntaxError(message: "a named kernel takes only options, e.g. \(name)(padding=valid)")
                }
                return .convolution(try convolution(kernels: [named.kernel], options: raw.options))
            }
            throw ChainSyntaxError(message: "unknown step \"\(name)\"" + Suggestion.hint(for: name, among: stepNames))
        }
    }

    private static func convolution(kernels: [Kernel], options: [(key: String, value: ChainValue)])
        throws(ChainSyntaxError) -> Convolution {
        var conv = Convolution(kernels: kernels)
        let keys = ["padding", "border", "stride", "dilation", "mode", "flip"]
        for (key, value) in options {
            switch key {
            case "padding": conv.padding = try padding(value)
            case "border": conv.border = try choice(value, key: key, BorderMode.allCases.map(\.rawValue))
                .flatMap(BorderMode.init(rawValue:)) ?? .zero
            case "stride": conv.stride = try positiveInteger(value, what: "stride", max: ChainLimits.maxStride)
            case "dilation": conv.dilation = try positiveInteger(value, what: "dilation", max: ChainLimits.maxStride)
            case "mode": conv.mode = try choice(value, key: key, ChannelMode.allCases.map(\.rawValue))
                .flatMap(ChannelMode.init(rawValue:)) ?? .perChannel
            case "flip": conv.flip = try choice(value, key: key, ["true", "false"]) == "true"
            default:
                throw ChainSyntaxError(message: "unknown option \"\(key)\"" + Suggestion.hint(for: key, among: keys))
            }
        }
        let first = kernels[0]
        if let odd = kernels.first(where: { $0.height != first.height || $0.width != first.width }) {
            throw ChainSyntaxError(message: "kernels differ in size (\(first.height)×\(first.width) and "
                                   + "\(odd.height)×\(odd.width)); use one conv step per size")
        }
        return conv
    }

    private static func kernel(_ value: ChainValue) throws(ChainSyntaxError) -> Kernel {
        switch value {
        case .name(let name):
            guard let named = NamedKernel(rawValue: name) else {
                throw ChainSyntaxError(message: "unknown kernel \"\(name)\""
                                       + Suggestion.hint(for: name, among: NamedKernel.allCases.map(\.rawValue)
                                                         + ["gaussian", "box"]))
            }
            return named.kernel
        case .call("gaussian", let args):
            guard args.count == 2 else { throw ChainSyntaxError(message: "gaussian takes a size and a sigma, e.g. gaussian(5, 1.0)") }
            let n = try positiveInteger(args[0], what: "gaussian size", max: ChainLimits.maxKernelSize)
            let sigma = try number(args[1], what: "sigma")
            guard sigma > 0 else { throw ChainSyntaxError(message: "sigma must be positive, got \(format(sigma))") }
            return NamedKernel.gaussian(n, sigma: sigma)
        case .call("box", let args):
            guard args.count == 1 else { throw ChainSyntaxError(message: "box takes a size, e.g. box(5)") }
            return NamedKernel.box(try positiveInteger(args[0], what: "box size", max: ChainLimits.maxKernelSize))
        case .call(let name, _):
            throw ChainSyntaxError(message: "unknown kernel \"\(name)(...)\" (parametric kernels: gaussian(n, sigma), box(n))")
        case .list(let items):
            return try matrixKernel(items)
        case .number(let v):
            throw ChainSyntaxError(message: "\(format(v)) is not a kernel (write a matrix, e.g. [[1,0],[0,1]])")
        }
    }

    private static func matrixKernel(_ items: [ChainValue]) throws(ChainSyntaxError) -> Kernel {
        func rows(_ values: [ChainValue]) throws(ChainSyntaxError) -> [[Float]] {
            var out: [[Float]] = []
            for value in values {
                guard case .list(let row) = value else {
                    throw ChainSyntaxError(message: "a matrix kernel is a list of rows, e.g. [[1,0],[0,1]]")
                }
                out.append(try row.map { v throws(ChainSyntaxError) in
                    try float(try number(v, what: "kernel weight"), what: "kernel weight")
                })
            }
            guard let width = out.first?.count, width > 0, out.allSatisfy({ $0.count == width }) else {
                throw ChainSyntaxError(message: "matrix rows differ in length or are empty")
            }
            guard out.count <= ChainLimits.maxKernelSize && width <= ChainLimits.maxKernelSize else {
                throw ChainSyntaxError(message: "a \(out.count)×\(width) matrix kernel is over the limit of "
                                       + "\(ChainLimits.maxKernelSize)×\(ChainLimits.maxKernelSize)")
            }
            return out
        }
        guard case .list(let firstRow)? = items.first else {
            throw ChainSyntaxError(message: "a matrix kernel is a list of rows, e.g. [[1,0],[0,1]]")
        }
        if case .list? = firstRow.first {
            var slices: [[[Float]]] = []
            for item in items {
                guard case .list(let slice) = item else { throw ChainSyntaxError(message: "3-D kernel slices must all be matrices") }
                slices.append(try rows(slice))
            }
            guard slices.allSatisfy({ $0.count == slices[0].count && $0[0].count == slices[0][0].count }) else {
                throw ChainSyntaxError(message: "3-D kernel slices differ in size")
            }
            return Kernel(slices: slices)
        }
        return Kernel(rows: try rows(items))
    }

    private static func expectNoArguments(_ raw: RawStep) throws(ChainSyntaxError) {
        guard raw.arguments.isEmpty && raw.options.isEmpty else {
            throw ChainSyntaxError(message: "\(raw.name) takes no arguments")
        }
    }

    private static func expectOptions(_ raw: RawStep, allowed: [String]) throws(ChainSyntaxError) {
        for (key, _) in raw.options where !allowed.contains(key) {
            throw ChainSyntaxError(message: "unknown option \"\(key)\"" + Suggestion.hint(for: key, among: allowed))
        }
    }

    private static func number(_ value: ChainValue, what: String) throws(ChainSyntaxError) -> Double {
        guard case .number(let v) = value else { throw ChainSyntaxError(message: "\(what) must be a number") }
        return v
    }

    /// `value` as a Float; one beyond Float's range (a finite Double such as 1e39) would become
    /// infinite and turn whole maps into NaN.
    private static func float(_ value: Double, what: String) throws(ChainSyntaxError) -> Float {
        guard Float(value).isFinite else {
            throw ChainSyntaxError(message: "\(what) \(format(value)) is beyond the range of a 32-bit float (±3.4e38)")
        }
        return Float(value)
    }

    private static func positiveInteger(_ value: ChainValue, what: String, max: Int) throws(ChainSyntaxError) -> Int {
        let v = try number(value, what: what)
        guard v == v.rounded(), v >= 1, v <= Double(max) else {
            throw ChainSyntaxError(message: "\(what) must be a whole number from 1 to \(max), got \(format(v))")
        }
        return Int(v)
    }

    private static func padding(_ value: ChainValue) throws(ChainSyntaxError) -> Padding {
        switch value {
        case .name("valid"): return .valid
        case .name("same"): return .same
        case .number(let v) where v == v.rounded() && v >= 0 && v <= Double(ChainLimits.maxPadding):
            return .explicit(Int(v))
        case .number(let v) where v == v.rounded() && v > Double(ChainLimits.maxPadding):
            throw ChainSyntaxError(message: "padding \(format(v)) is over the limit of \(ChainLimits.maxPadding) pixels")
        default: throw ChainSyntaxError(message: "padding must be valid, same or a whole number of pixels")
        }
    }

    /// A step's text as an error shows it: at most 80 characters.
    static func excerpt(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(79)) + "…"
    }

    private static func choice(_ value: ChainValue, key: String, _ options: [String]) throws(ChainSyntaxError) -> String? {
        guard case .name(let word) = value, options.contains(word) else {
            let shown: String
            if case .name(let word) = value { shown = "\"\(word)\"" } else { shown = "that value" }
            throw ChainSyntaxError(message: "\(key) must be one of \(options.joined(separator: ", ")), not \(shown)")
        }
        return word
    }
}
