// ResidualBlock: the `residual_block` shorthand of architecture files, expanded into plain
// layers as the file is read (model files store the expanded layers). One block is ResNet's
// basic block (He et al. 2016):
//
//     NAME_conv1   conv2d FILTERS 3×3, stride STRIDE, pad 1, no bias    (reads the block input)
//                  batchnorm, relu
//                  conv2d FILTERS 3×3, pad 1, no bias
//     NAME_main    batchnorm
//                  conv2d FILTERS 1×1, stride STRIDE, no bias           (only when the stride is
//     NAME_shortcut batchnorm                                           not 1 or the channels change)
//                  add [NAME_shortcut or the block input, NAME_main]
//     NAME         relu                                                 (the block's output)
//
// Keys: filters (required), stride = 1, repeat = 1 (blocks in a row; all but the first have
// stride 1; block k of a repeated NAME is NAME_k, the last one NAME), name (default blockN,
// counting the file's residual blocks), inputs (the first block's input, as for any layer).

/// Expands residual blocks.
public enum ResidualBlock {
    /// The layer type of the shorthand.
    public static let type = "residual_block"
    static let keys: Set<String> = ["type", "name", "inputs", "filters", "stride", "repeat"]

    /// Appends the layers of the block table `fields` to `nodes` (layers read so far, on
    /// `input`); `layer` (1-based) names the table in errors, `ordinal` numbers unnamed blocks.
    public static func expand(_ fields: [String: FieldValue], into nodes: inout [LayerNode], input: SampleShape,
                              layer: Int, ordinal: Int) throws(ArchitectureError) {
        func fail(_ message: String) -> ArchitectureError { ArchitectureError(layer: layer, message: "\(type): \(message)") }
        if let key = fields.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail("unknown key \"\(key)\" (keys: filters, stride, repeat, name, inputs)")
        }
        func integer(_ key: String, _ fallback: Int?) throws(ArchitectureError) -> Int {
            guard let value = fields[key] else {
                guard let fallback else { throw fail("missing \(key)") }
                return fallback
            }
            guard case .number(let v) = value, v == v.rounded(), v >= 1, v <= Double(NetworkLimits.maxFilters) else {
                throw fail("\(key) must be a whole number from 1 to \(NetworkLimits.maxFilters)")
            }
            return Int(v)
        }
        let filters = try integer("filters", nil), stride = try integer("stride", 1), count = try integer("repeat", 1)
        guard count <= 64 else { throw fail("repeat must be at most 64") }
        var base = "block\(ordinal)"
        if let value = fields["name"] {
            guard case .string(let text) = value, LayerNode.isValidName(text), text.utf8.count <= LayerNode.maxNameLength - 12
            else {
                throw fail("name must be letters, digits, '_', '-' or '.', at most \(LayerNode.maxNameLength - 12) long, "
                           + "not all digits and not \"input\"")
            }
            base = text
        }
        // The block input: the named inputs, else the layer above (named here if it has no name).
        var source: String
        switch fields["inputs"] {
        case nil:
            guard !nodes.isEmpty else {
                source = LayerNode.inputName
                break
            }
            if nodes[nodes.count - 1].name == nil { nodes[nodes.count - 1].name = base + "_in" }
            source = nodes[nodes.count - 1].name!
        case .string(let one)?: source = one
        case .strings(let list)? where list.count == 1: source = list[0]
        default: throw fail("inputs must name one layer")
        }
        for k in 1...count {
            let channels = try channelCount(of: source, nodes: nodes, input: input, layer: layer)
            let name = k == count ? base : "\(base)_\(k)", s = k == 1 ? stride : 1
            func conv(_ size: Int, _ stride: Int) -> LayerSpec {
                .conv2d(filters: filters, size: size, stride: stride, padding: size / 2, dilation: 1, bias: false)
            }
            let norm = LayerSpec.batchnorm(momentum: 0.1, epsilon: 1e-5)
            nodes += [LayerNode(conv(3, s), name: name + "_conv1", inputs: [source]), LayerNode(norm), LayerNode(.relu),
                      LayerNode(conv(3, 1)), LayerNode(norm, name: name + "_main")]
            var shortcut = source
            if s != 1 || channels != filters {
                nodes += [LayerNode(conv(1, s), inputs: [source]), LayerNode(norm, name: name + "_shortcut")]
                shortcut = name + "_shortcut"
            }
            nodes += [LayerNode(.add, inputs: [shortcut, name + "_main"]), LayerNode(.relu, name: name)]
            source = name
        }
    }

    /// The channels of the layer named `name` (or the input), from a plan of the layers so far.
    private static func channelCount(of name: String, nodes: [LayerNode], input: SampleShape, layer: Int)
        throws(ArchitectureError) -> Int {
        if name == LayerNode.inputName { return input.channels }
        guard let i = nodes.lastIndex(where: { $0.name == name }) else {
            throw ArchitectureError(layer: layer, message: "\(type): input \"\(name)\" names no layer above it")
        }
        let plan = try NetworkPlan(input: input, nodes: nodes, partial: true)
        return plan.shapes[i].channels
    }
}
