// ImportReport: every problem an import found, as one error. The first line stands alone
// (`model.onnx: not supported: 2 operators — NonMaxSuppression (opset 11) at node "nms_1",
// ...; producer pytorch 2.13, IR 10, opset 20, 169 nodes`); one indented line per problem
// follows, so nothing is hidden behind the first failure.

struct ImportReport {
    let path: String
    let provenance: String
    var nodeCount = 0
    private(set) var problems: [ImportProblem] = []

    init(path: String, provenance: String) {
        self.path = path
        self.provenance = provenance
    }

    var isEmpty: Bool { problems.isEmpty }

    mutating func add(_ kind: ImportProblem.Kind, subject: String, node: String, detail: String) {
        problems.append(ImportProblem(kind: kind, subject: subject, node: node, detail: detail))
    }

    /// Missing operators grouped: (subject, node names) in order of first appearance.
    var missingOperators: [(String, [String])] {
        var order: [String] = [], nodes: [String: [String]] = [:]
        for p in problems where p.kind == .operatorMissing {
            if nodes[p.subject] == nil { order.append(p.subject) }
            nodes[p.subject, default: []].append(p.node)
        }
        return order.map { ($0, nodes[$0]!) }
    }

    var lines: [String] {
        var lines: [String] = []
        for (subject, nodes) in missingOperators {
            let names = nodes.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ") + (nodes.count > 3 ? ", ..." : "")
            lines.append("\(subject)\(nodes.count > 1 ? " ×\(nodes.count)" : "") at node\(nodes.count > 1 ? "s" : "") \(names)")
        }
        for p in problems where p.kind != .operatorMissing {
            lines.append(p.node.isEmpty ? p.detail : "\(p.subject) \"\(p.node)\": \(p.detail)")
        }
        return lines
    }

    var error: OnnxError {
        let operators = missingOperators.count, others = problems.filter { $0.kind != .operatorMissing }.count
        var counts: [String] = []
        if operators > 0 { counts.append("\(operators) operator\(operators == 1 ? "" : "s")") }
        if others > 0 { counts.append("\(others) other problem\(others == 1 ? "" : "s")") }
        let all = lines
        let headline = "not supported: " + counts.joined(separator: ", ") + " — " + all.prefix(3).joined(separator: "; ")
            + (all.count > 3 ? "; ..." : "") + "; producer \(provenance), \(nodeCount) nodes"
        return OnnxError(path: path, reason: ([headline] + (all.count > 1 ? all.map { "  " + $0 } : [])).joined(separator: "\n"))
    }
}
