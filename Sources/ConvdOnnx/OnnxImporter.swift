// OnnxImporter: a model file to an OnnxGraph for one input shape. In order: read the file
// (bounded), inline local functions, then walk the nodes — look up each operator by (name,
// opset), let its builder check the node and infer its outputs' types and shapes, run it at
// once when every input it reads is constant (which folds the Shape/Gather/Concat glue that
// computes a Reshape's shape), else make it a step. The nodes left are then fused (Fusion:
// folded biases and bounds are known by now) and walked again into the graph. Every problem
// is collected and reported together (ImportReport) before anything runs; a node after a
// failed one is still checked for a missing operator, but not built.

public enum OnnxImporter {
    /// Imports the model at `path`. `shapes` fixes the shape of named inputs (needed where
    /// the file leaves a dimension symbolic); `bound` gives values to inputs that are not
    /// images (their values are then constants, as the conformance tests' index inputs are).
    public static func load(_ path: String, shapes: [String: [Int]] = [:], bound: [String: OnnxTensor] = [:],
                            limits: OnnxLimits = OnnxLimits()) throws(OnnxError) -> OnnxGraph {
        try OnnxFile.read(path, limits: limits).compile(shapes: shapes, bound: bound)
    }

    /// The declared runtime inputs of the model at `path`, without compiling it.
    public static func declaredInputs(_ path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError)
        -> [(name: String, shape: [Int?]?)] {
        try OnnxFile.read(path, limits: limits).declaredInputs
    }

    /// The first pass over `doc`: inputs defined, every node checked and what is constant
    /// folded. `compiler.remaining` then holds the nodes left to run, unfused; `initial` is the
    /// compiler before any node was added.
    static func firstPass(_ doc: OnnxDocument, shapes: [String: [Int]], bound: [String: OnnxTensor],
                          limits: OnnxLimits) throws(OnnxError)
        -> (compiler: StepCompiler, initial: StepCompiler, report: ImportReport, inputs: [GraphValue], nodeCount: Int) {
        var report = ImportReport(path: doc.path, provenance: doc.provenance)
        for problem in doc.problems { report.add(.attribute, subject: "model", node: "", detail: problem) }
        let reader = TensorReader(path: doc.path, limits: limits)
        var constants = doc.initializers
        let inlined = try FunctionInlining.nodes(of: doc, reader: reader, limit: limits.maxNodes)
        report.nodeCount = inlined.count

        var compiler = StepCompiler(limits: limits)
        var runtimeInputs: [GraphValue] = []
        for input in doc.inputs where constants[input.name] == nil {
            if let value = bound[input.name] {
                constants[input.name] = value
                continue
            }
            guard input.elementType != 0 else {
                report.add(.type, subject: "input", node: input.name,
                           detail: "input \"\(input.name)\" is a sequence, map or optional, not a tensor")
                continue
            }
            guard input.elementType == 1 else {
                report.add(.type, subject: "input", node: input.name,
                           detail: "input \"\(input.name)\" is \(typeName(input.elementType)); images enter as FLOAT")
                continue
            }
            guard let shape = shapes[input.name] ?? input.shape.flatMap({ dims in
                dims.allSatisfy { $0 != nil } ? dims.map { $0! } : nil
            }) else {
                let dims = input.shape.map { $0.map { $0.map(String.init) ?? "?" }.joined(separator: "×") } ?? "unknown"
                report.add(.shape, subject: "input", node: input.name,
                           detail: "input \"\(input.name)\" has a dynamic shape (\(dims)); give its size")
                continue
            }
            let value = GraphValue(name: input.name, type: .float, shape: shape)
            runtimeInputs.append(value)
            compiler.define(input.name, ValueInfo(type: .float, shape: shape))
        }
        for (name, value) in constants { compiler.constant(name, value) }
        compiler.declaredTypes = doc.initializerTypes
        for input in doc.inputs { compiler.declaredTypes[input.name] = input.elementType }
        // First pass: check every node and fold what is constant. Then fuse what is left, now
        // that computed weights and bounds are known, and compile that.
        let first = compiler
        for node in inlined {
            compiler.add(node, report: &report)
        }
        return (compiler, first, report, runtimeInputs, inlined.count)
    }

    static func compile(_ doc: OnnxDocument, shapes: [String: [Int]], bound: [String: OnnxTensor],
                        limits: OnnxLimits) throws(OnnxError) -> OnnxGraph {
        let pass = try firstPass(doc, shapes: shapes, bound: bound, limits: limits)
        var compiler = pass.compiler, report = pass.report
        let first = pass.initial, runtimeInputs = pass.inputs, nodeCount = pass.nodeCount
        if report.isEmpty {
            var known = compiler.values
            let values = compiler
            let fused = Fusion.apply(compiler.remaining, constants: &known, graphOutputs: Set(doc.outputs.map(\.name)),
                                     isFloat: { values.info($0)?.type == .float })
            var second = first
            for (name, value) in known where first.values[name] == nil { second.constant(name, value) }
            for node in fused { second.add(node, report: &report) }
            compiler = second
        }
        var outputs: [GraphValue] = []
        for output in doc.outputs {
            guard let info = compiler.info(output.name) else {
                if !compiler.failed.contains(output.name) {
                    report.add(.shape, subject: "output", node: output.name,
                               detail: "output \"\(output.name)\" is not computed by any node")
                }
                continue
            }
            outputs.append(GraphValue(name: output.name, type: info.type, shape: info.shape))
        }
        guard report.isEmpty else { throw report.error }
        return compiler.finish(path: doc.path, provenance: doc.provenance, metadata: doc.metadata,
                               inputs: runtimeInputs, outputs: outputs, nodeCount: nodeCount)
    }
}

/// Turns nodes into steps, slots and constants.
struct StepCompiler {
    let limits: OnnxLimits
    private(set) var infos: [String: ValueInfo] = [:]
    private(set) var values: [String: OnnxTensor] = [:]
    /// ONNX element types of graph inputs and initializers, as declared.
    var declaredTypes: [String: Int] = [:]
    /// Outputs of nodes that could not be built.
    private(set) var failed = Set<String>()
    private var slots: [String: Int] = [:]
    private var steps: [Step] = []
    private var scratch: [Int] = []
    /// The nodes that became steps (not folded), in order.
    private(set) var remaining: [OnnxNode] = []
    private var rows: [GraphRow] = []

    init(limits: OnnxLimits) {
        self.limits = limits
    }

    func info(_ name: String) -> ValueInfo? { infos[name] }

    mutating func define(_ name: String, _ info: ValueInfo) { infos[name] = info }

    mutating func constant(_ name: String, _ value: OnnxTensor) {
        infos[name] = ValueInfo(type: value.type, shape: value.shape)
        values[name] = value
    }

    mutating func slot(_ name: String) -> Int {
        if let s = slots[name] { return s }
        slots[name] = slots.count
        return slots.count - 1
    }

    /// `NonMaxSuppression (opset 11)`, `com.microsoft.FusedConv (opset 1)`.
    static func subject(_ node: OnnxNode) -> String {
        (node.domain.isEmpty ? "" : node.domain + ".") + "\(node.opType) (opset \(node.opset))"
    }

    mutating func add(_ node: OnnxNode, report: inout ImportReport) {
        guard node.domain.isEmpty, let builder = Operators.builder(node.opType, opset: node.opset) else {
            report.add(.operatorMissing, subject: Self.subject(node), node: node.label, detail: "")
            failed.formUnion(node.outputs)
            return
        }
        var inputs: [BuildInput?] = []
        for name in node.inputs {
            if name.isEmpty {
                inputs.append(nil)
            } else if let info = infos[name] {
                inputs.append(BuildInput(info: info, constant: values[name], declaredType: declaredTypes[name]))
            } else {
                if !failed.contains(name) {
                    report.add(.shape, subject: node.opType, node: node.label,
                               detail: "input \"\(name)\" is not produced by any earlier node")
                }
                failed.formUnion(node.outputs)
                return
            }
        }
        let built: Built
        do {
            built = try builder(NodeBuild(node: node, inputs: inputs, maxElements: limits.maxElements))
        } catch {
            report.add(error.kind, subject: node.opType, node: node.label, detail: error.detail)
            failed.formUnion(node.outputs)
            return
        }
        let named = zip(node.outputs, built.outputs).filter { !$0.0.isEmpty }
        for (_, info) in named {
            do {
                _ = try NodeBuild.bounded(info.shape, maxElements: limits.maxElements)
            } catch {
                report.add(.shape, subject: node.opType, node: node.label, detail: error.detail)
                failed.formUnion(node.outputs)
                return
            }
        }
        for (name, info) in named { infos[name] = info }
        let read = built.reads ?? Array(inputs.indices)
        if built.foldable && read.allSatisfy({ $0 >= inputs.count || inputs[$0] == nil || inputs[$0]?.constant != nil }) {
            let results = built.kernel.run(inputs.indices.map { read.contains($0) ? inputs[$0]?.constant : nil }, 1)
            for (name, value) in zip(node.outputs, results) where !name.isEmpty { values[name] = value }
            return
        }
        remaining.append(node)
        let inputSlots = node.inputs.map { $0.isEmpty ? nil : slot($0) }
        let outputSlots = node.outputs.map { slot($0) }
        steps.append(Step(kernel: built.kernel, inputs: inputSlots, outputs: outputSlots, release: []))
        scratch.append(built.scratchBytes)
        let parameters = node.inputs.compactMap { values[$0]?.count }.reduce(0, +)
        var fused = ""
        if case .floats(let b)? = node.attributes[Fusion.clipAttribute], b.count == 2 {
            fused = b == [0, .infinity] ? "relu" : "clip \(b[0])…\(b[1])"
        }
        rows.append(GraphRow(node: node.label, op: node.opType, outputShape: built.outputs.first?.shape ?? [],
                             parameters: parameters, fused: fused))
    }

    /// The graph: slots for every runtime value, releases after last reads, constants loaded.
    mutating func finish(path: String, provenance: String, metadata: [String: String], inputs: [GraphValue],
                         outputs: [GraphValue], nodeCount: Int) -> OnnxGraph {
        let inputSlots = inputs.map { slot($0.name) }
        let outputSlots = outputs.map { slot($0.name) }
        var constantSlots: [(Int, OnnxTensor)] = []
        for (name, s) in slots { if let value = values[name] { constantSlots.append((s, value)) } }
        let keep = Set(outputSlots).union(constantSlots.map(\.0))
        var lastRead: [Int: Int] = [:]
        for (i, step) in steps.enumerated() { for s in step.inputs.compactMap({ $0 }) { lastRead[s] = i } }
        for (s, i) in lastRead where !keep.contains(s) { steps[i].release.append(s) }
        // Peak of live runtime values, walking the steps with the sizes import inferred.
        var size: [Int: Int] = [:]
        for (name, s) in slots where values[name] == nil {
            // A 4-D map may be stored blocked: its channels rounded up to 16.
            var shape = infos[name]?.shape ?? []
            if shape.count == 4 { shape[1] = (shape[1] + 15) / 16 * 16 }
            size[s] = shape.elementCount * 4
        }
        var live = inputSlots.reduce(0) { $0 + (size[$1] ?? 0) }, peak = live
        for (i, step) in steps.enumerated() {
            live += step.outputs.reduce(0) { $0 + (size[$1] ?? 0) }
            peak = max(peak, live + scratch[i])
            live -= step.release.reduce(0) { $0 + (size[$1] ?? 0) }
        }
        return OnnxGraph(path: path, provenance: provenance, metadata: metadata, inputs: inputs, outputs: outputs,
                         rows: rows, nodeCount: nodeCount, steps: steps, slotCount: slots.count, inputSlots: inputSlots,
                         outputSlots: outputSlots, constants: constantSlots, peakBytes: peak)
    }
}

/// A model file read once: what it declares, its missing operators, and its compilation for
/// an input size (so a caller that needs the size first parses the file only once).
public struct OnnxFile {
    let document: OnnxDocument
    let limits: OnnxLimits

    /// Reads and parses the model at `path` (external data included).
    public static func read(_ path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError) -> OnnxFile {
        OnnxFile(document: try OnnxDocument.read(path, limits: limits), limits: limits)
    }

    /// Parses the bytes of a model file at `path` (external data is looked up beside it).
    public static func parse(_ bytes: [UInt8], path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError)
        -> OnnxFile {
        OnnxFile(document: try OnnxDocument.parse(bytes, path: path, limits: limits), limits: limits)
    }

    public var path: String { document.path }

    /// The runtime inputs (not initializers): name and dimensions, nil where symbolic.
    public var declaredInputs: [(name: String, shape: [Int?]?)] {
        document.inputs.filter { document.initializers[$0.name] == nil }.map { ($0.name, $0.shape) }
    }

    /// The model's metadata_props.
    public var metadata: [String: String] { document.metadata }

    /// The operator types after inlining functions, in order (`domain.Op` outside ONNX's own).
    public func operators() throws(OnnxError) -> [String] {
        try nodes().map { $0.domain.isEmpty ? $0.opType : $0.domain + "." + $0.opType }
    }

    /// The report of every operator convd lacks, or nil: what can be known before the input's
    /// size is (compile reports everything).
    public func missingOperators() throws(OnnxError) -> OnnxError? {
        let nodes = try nodes()
        var report = ImportReport(path: document.path, provenance: document.provenance)
        report.nodeCount = nodes.count
        for node in nodes where !node.domain.isEmpty || Operators.builder(node.opType, opset: node.opset) == nil {
            report.add(.operatorMissing, subject: StepCompiler.subject(node), node: node.label, detail: "")
        }
        return report.isEmpty ? nil : report.error
    }

    /// The graph compiled for `shapes` (see OnnxImporter.load).
    public func compile(shapes: [String: [Int]] = [:], bound: [String: OnnxTensor] = [:]) throws(OnnxError) -> OnnxGraph {
        try OnnxImporter.compile(document, shapes: shapes, bound: bound, limits: limits)
    }

    private func nodes() throws(OnnxError) -> [OnnxNode] {
        try FunctionInlining.nodes(of: document, reader: TensorReader(path: document.path, limits: limits),
                                   limit: limits.maxNodes)
    }
}
