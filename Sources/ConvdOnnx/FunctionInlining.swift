// FunctionInlining: a model's nodes with every call of a model-local function (the dynamo
// exporter writes one per module) replaced by the function's body — its values renamed under
// the call's name so they cannot collide, its formal inputs and outputs bound to the call's,
// and attribute references resolved from the call or the function's defaults. Every node gets
// the opset of its domain where it is used.

enum FunctionInlining {
    /// Deepest nesting of function calls.
    static let maxDepth = 16

    /// The document's graph nodes, flattened.
    static func nodes(of doc: OnnxDocument, reader: TensorReader, limit: Int) throws(OnnxError) -> [OnnxNode] {
        var out: [OnnxNode] = []
        var visits = 0
        for proto in doc.nodes {
            try expand(proto, opsets: doc.opsets, doc: doc, reader: reader, prefix: "", rename: [:], callAttributes: [:],
                       depth: 0, limit: limit, visits: &visits, into: &out)
        }
        return out
    }

    private static func expand(_ proto: Onnx_NodeProto, opsets: [String: Int], doc: OnnxDocument, reader: TensorReader,
                               prefix: String, rename: [String: String], callAttributes: [String: Attribute],
                               depth: Int, limit: Int, visits: inout Int, into out: inout [OnnxNode]) throws(OnnxError) {
        // Every node visited counts, calls included: functions that call each other many times
        // over (10 calls a level, 15 levels) stop here, not after 10^15 calls.
        visits += 1
        guard visits <= limit else {
            throw OnnxError(path: doc.path, reason: "more than \(limit) nodes and function calls after inlining functions")
        }
        func name(_ value: String) -> String {
            value.isEmpty ? "" : rename[value] ?? (prefix.isEmpty ? value : prefix + value)
        }
        var attributes: [String: Attribute] = [:]
        // `convd.` attributes are the importer's own (a fused clamp): a file cannot set them.
        for a in proto.attribute where !a.name.hasPrefix("convd.") {
            if !a.refAttrName.isEmpty {
                if let bound = callAttributes[a.refAttrName] { attributes[a.name] = bound }
                continue
            }
            attributes[a.name] = try reader.attribute(a)
        }
        let domain = proto.domain == "ai.onnx" ? "" : proto.domain
        if let function = doc.functions[proto.domain + "\u{0}" + proto.opType] {
            guard depth < maxDepth else {
                throw OnnxError(path: doc.path, reason: "functions nest deeper than \(maxDepth) calls at \"\(proto.name)\"")
            }
            var inner: [String: String] = [:]
            for (i, formal) in function.inputs.enumerated() { inner[formal] = i < proto.input.count ? name(proto.input[i]) : "" }
            for (i, formal) in function.outputs.enumerated() where i < proto.output.count { inner[formal] = name(proto.output[i]) }
            var bound = function.attributeDefaults
            for (key, value) in attributes { bound[key] = value }
            let callName = (proto.name.isEmpty ? proto.opType : name(proto.name)) + "/"
            for node in function.nodes {
                try expand(node, opsets: function.opsets.merging(opsets) { own, _ in own }, doc: doc, reader: reader,
                           prefix: callName, rename: inner, callAttributes: bound, depth: depth + 1, limit: limit,
                           visits: &visits, into: &out)
            }
            return
        }
        out.append(OnnxNode(name: proto.name.isEmpty ? "" : name(proto.name), opType: proto.opType, domain: domain,
                            inputs: proto.input.map(name), outputs: proto.output.map(name), attributes: attributes,
                            opset: opsets[domain] ?? 0))
    }
}
