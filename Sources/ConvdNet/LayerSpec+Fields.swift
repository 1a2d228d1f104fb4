// LayerSpec+Fields: a layer as a flat table of fields, `type = "conv2d"`, `filters = 16`, ...,
// the form architecture files (TOML) and model metadata (JSON) both use. Decoding is strict:
// an unknown type or key, a missing required key or a value of the wrong kind is an error
// naming the layer and the key.

/// A field value of a layer table.
public enum FieldValue: Sendable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    /// A list of names (a layer's `inputs`).
    case strings([String])
}

extension LayerSpec {
    /// Layer types and the keys each accepts (required ones first).
    public static let knownTypes: [String: (required: [String], optional: [String])] = [
        "conv2d": (["filters", "size"], ["stride", "padding", "dilation", "bias", "groups"]),
        "maxpool": (["size"], ["stride"]),
        "avgpool": (["size"], ["stride"]),
        "global_avgpool": ([], []),
        "global_maxpool": ([], []),
        "relu": ([], []),
        "relu6": ([], []),
        "hard_swish": ([], []),
        "leaky_relu": ([], ["slope"]),
        "sigmoid": ([], []),
        "tanh": ([], []),
        "flatten": ([], []),
        "dense": (["units"], []),
        "dropout": ([], ["rate"]),
        "batchnorm": ([], ["momentum", "epsilon"]),
        "add": ([], []),
        "concat": ([], []),
    ]

    /// Builds a spec from its fields; `layer` (1-based) names it in errors. The keys every
    /// layer takes, `name` and `inputs` (LayerNode), are left to the caller.
    public init(fields: [String: FieldValue], layer: Int) throws(ArchitectureError) {
        guard case .string(let type)? = fields["type"] else {
            throw ArchitectureError(layer: layer, message: "missing type (e.g. type = \"conv2d\")")
        }
        guard let keys = Self.knownTypes[type] else {
            throw ArchitectureError(layer: layer, message: "unknown layer type \"\(type)\" (known: "
                                    + Self.knownTypes.keys.sorted().joined(separator: ", ") + ")")
        }
        for key in fields.keys.sorted() where !LayerNode.keys.contains(key) && !keys.required.contains(key)
            && !keys.optional.contains(key) {
            let allowed = keys.required + keys.optional
            throw ArchitectureError(layer: layer, message: "\(type): unknown key \"\(key)\""
                                    + " (keys: \((allowed + ["name", "inputs"]).joined(separator: ", ")))")
        }
        for key in keys.required where fields[key] == nil {
            throw ArchitectureError(layer: layer, message: "\(type): missing \(key)")
        }
        func integer(_ key: String, _ fallback: Int) throws(ArchitectureError) -> Int {
            guard let value = fields[key] else { return fallback }
            // Any whole number a Double holds exactly; NetworkPlan applies the real limits.
            guard case .number(let v) = value, v == v.rounded(), abs(v) <= 9_007_199_254_740_992 else {
                throw ArchitectureError(layer: layer, message: "\(type): \(key) must be a whole number")
            }
            return Int(v)
        }
        func real(_ key: String, _ fallback: Float) throws(ArchitectureError) -> Float {
            guard let value = fields[key] else { return fallback }
            guard case .number(let v) = value else {
                throw ArchitectureError(layer: layer, message: "\(type): \(key) must be a number")
            }
            return Float(v)
        }
        switch type {
        case "conv2d":
            var bias = true
            if let value = fields["bias"] {
                guard case .bool(let b) = value else {
                    throw ArchitectureError(layer: layer, message: "conv2d: bias must be true or false")
                }
                bias = b
            }
            let (filters, size) = (try integer("filters", 0), try integer("size", 0))
            let (stride, padding, dilation) = (try integer("stride", 1), try integer("padding", 0), try integer("dilation", 1))
            let groups = try integer("groups", 1)
            self = groups == 1
                ? .conv2d(filters: filters, size: size, stride: stride, padding: padding, dilation: dilation, bias: bias)
                : .groupedConv2d(filters: filters, size: size, stride: stride, padding: padding, dilation: dilation,
                                 bias: bias, groups: groups)
        case "maxpool", "avgpool":
            let size = try integer("size", 0)
            let stride = try integer("stride", size)
            self = type == "maxpool" ? .maxpool(size: size, stride: stride) : .avgpool(size: size, stride: stride)
        case "global_avgpool": self = .globalAvgpool
        case "global_maxpool": self = .globalMaxpool
        case "relu": self = .relu
        case "relu6": self = .relu6
        case "hard_swish": self = .hardSwish
        case "add": self = .add
        case "concat": self = .concat
        case "leaky_relu": self = .leakyRelu(slope: try real("slope", 0.01))
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "flatten": self = .flatten
        case "dense": self = .dense(units: try integer("units", 0))
        case "dropout": self = .dropout(rate: try real("rate", 0.5))
        default: self = .batchnorm(momentum: try real("momentum", 0.1), epsilon: try real("epsilon", 1e-5))
        }
    }

    /// The spec as fields, every key written out.
    public var fields: [String: FieldValue] {
        var f: [String: FieldValue] = ["type": .string(kind)]
        switch self {
        case let .conv2d(filters, size, stride, padding, dilation, bias):
            f["filters"] = .number(Double(filters))
            f["size"] = .number(Double(size))
            f["stride"] = .number(Double(stride))
            f["padding"] = .number(Double(padding))
            f["dilation"] = .number(Double(dilation))
            f["bias"] = .bool(bias)
        case let .groupedConv2d(filters, size, stride, padding, dilation, bias, groups):
            f = LayerSpec.conv2d(filters: filters, size: size, stride: stride, padding: padding, dilation: dilation,
                                 bias: bias).fields
            f["groups"] = .number(Double(groups))
        case let .maxpool(size, stride), let .avgpool(size, stride):
            f["size"] = .number(Double(size))
            f["stride"] = .number(Double(stride))
        case .leakyRelu(let slope): f["slope"] = .number(Double(slope))
        case .dense(let units): f["units"] = .number(Double(units))
        case .dropout(let rate): f["rate"] = .number(Double(rate))
        case let .batchnorm(momentum, epsilon):
            f["momentum"] = .number(Double(momentum))
            f["epsilon"] = .number(Double(epsilon))
        case .globalAvgpool, .globalMaxpool, .relu, .relu6, .hardSwish, .sigmoid, .tanh, .flatten, .add, .concat: break
        }
        return f
    }
}
