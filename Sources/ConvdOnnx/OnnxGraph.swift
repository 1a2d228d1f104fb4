// OnnxGraph: an imported model compiled for one fixed input shape — the steps in order, each a
// kernel reading and writing numbered slots, the constants preloaded, and every value's slot
// released after its last reader. Built by OnnxImporter; immutable, so one graph can serve
// several threads (each run has its own slots).
import ConvdCore

/// One row of `convd inspect`: a node as it runs after folding and fusion.
public struct GraphRow: Sendable {
    public let node: String
    public let op: String
    public let outputShape: [Int]
    /// Elements of the constant inputs (weights).
    public let parameters: Int
    /// `relu`, `clip 0…6` when an activation was fused in.
    public let fused: String
}

/// A runtime input or output of the graph.
public struct GraphValue: Sendable, Equatable {
    public let name: String
    public let type: ElementType
    public let shape: [Int]
}

/// A compiled step.
struct Step: Sendable {
    let kernel: Kernel
    let inputs: [Int?]
    let outputs: [Int]
    /// Slots no later step reads, emptied after this one.
    var release: [Int]
}

/// A model ready to run.
public final class OnnxGraph: Sendable {
    /// The model file.
    public let path: String
    /// `pytorch 2.13, IR 10, opset 20`.
    public let provenance: String
    /// The file's metadata_props.
    public let metadata: [String: String]
    /// The inputs each run takes, in order.
    public let inputs: [GraphValue]
    /// The outputs each run returns, in order.
    public let outputs: [GraphValue]
    /// The nodes as compiled.
    public let rows: [GraphRow]
    /// Nodes in the file (after inlining) and steps left after folding and fusion.
    public let nodeCount: Int
    let steps: [Step]
    let slotCount: Int
    let inputSlots: [Int]
    let outputSlots: [Int]
    let constants: [(Int, OnnxTensor)]

    init(path: String, provenance: String, metadata: [String: String], inputs: [GraphValue], outputs: [GraphValue],
         rows: [GraphRow], nodeCount: Int, steps: [Step], slotCount: Int, inputSlots: [Int], outputSlots: [Int],
         constants: [(Int, OnnxTensor)], peakBytes: Int) {
        keepLargeAllocations()  // each step's maps reuse the last run's blocks
        self.peakBytes = peakBytes
        self.path = path
        self.provenance = provenance
        self.metadata = metadata
        self.inputs = inputs
        self.outputs = outputs
        self.rows = rows
        self.nodeCount = nodeCount
        self.steps = steps
        self.slotCount = slotCount
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
        self.constants = constants
    }

    /// Elements of every constant (the model's parameters after folding).
    public var parameterCount: Int { constants.reduce(0) { $0 + $1.1.count } }

    /// Bytes of the most values alive at once during a run (the inputs included, the
    /// constants not), for the job's memory check.
    public let peakBytes: Int

    /// Runs the graph on `values` (one per input, of its shape) and returns the outputs;
    /// `observe` sees each step's row and first output as it is made.
    public func run(_ values: [OnnxTensor], threads: Int = 1,
                    observe: ((GraphRow, OnnxTensor) -> Void)? = nil) -> [OnnxTensor] {
        precondition(values.count == inputs.count, "the graph takes \(inputs.count) inputs")
        var slots = [OnnxTensor?](repeating: nil, count: slotCount)
        for (slot, value) in constants { slots[slot] = value }
        for (i, value) in values.enumerated() {
            precondition(value.shape == inputs[i].shape, "input \(inputs[i].name) must be \(inputs[i].shape.shapeText)")
            slots[inputSlots[i]] = value
        }
        for (i, step) in steps.enumerated() {
            if !step.kernel.takesBlocked {
                // Converted once, in its slot, for every later reader too.
                for slot in step.inputs.compactMap({ $0 }) where slots[slot]?.blocked == true {
                    slots[slot] = slots[slot]!.planar()
                }
            }
            let results = step.kernel.run(step.inputs.map { $0.flatMap { slots[$0] } }, threads)
            if let observe, let first = results.first { observe(rows[i], first.planar()) }
            for (slot, value) in zip(step.outputs, results) { slots[slot] = value }
            for slot in step.release { slots[slot] = nil }
        }
        return outputSlots.map { slots[$0]!.planar() }
    }
}
