// LayerNode: one layer of an architecture as a node of a graph — its spec, an optional name,
// and the layers whose outputs it reads. A layer without `inputs` reads the layer before it
// (the network input for the first), so a plain list of layers is a chain as before; named
// layers and `inputs = ["stem", "block1"]` express residual connections (`add`), `concat`
// and projection shortcuts. `input` names the network's input. A layer may read only layers
// written above it, so every architecture is acyclic and already in topological order.
// NetworkPlan resolves the names and checks the shapes.

/// A layer of an architecture with its place in the graph.
public struct LayerNode: Sendable, Equatable {
    /// What the layer computes.
    public var spec: LayerSpec
    /// Its name, by which later layers (and `--freeze`) refer to it.
    public var name: String?
    /// Names of the layers it reads, in order; empty: the layer above it.
    public var inputs: [String]

    /// The keys every layer table may have besides its type's own.
    public static let keys: Set<String> = ["type", "name", "inputs"]
    /// The name that refers to the network's input.
    public static let inputName = "input"
    /// Longest layer name, and most inputs of one layer.
    public static let maxNameLength = 64
    public static let maxInputs = 64

    /// A node.
    public init(_ spec: LayerSpec, name: String? = nil, inputs: [String] = []) {
        self.spec = spec
        self.name = name
        self.inputs = inputs
    }

    /// A node from a layer table; `layer` (1-based) names it in errors.
    public init(fields: [String: FieldValue], layer: Int) throws(ArchitectureError) {
        spec = try LayerSpec(fields: fields, layer: layer)
        let kind = spec.kind
        func fail(_ message: String) -> ArchitectureError { ArchitectureError(layer: layer, message: "\(kind): \(message)") }
        switch fields["name"] {
        case nil: name = nil
        case .string(let text)?:
            guard Self.isValidName(text) else {
                throw fail("name \"\(text)\" must be 1–\(Self.maxNameLength) letters, digits, '_', '-' or '.', not all "
                           + "digits (numbers refer to layers by position) and not \"input\" (the network input)")
            }
            name = text
        default: throw fail("name must be a string")
        }
        switch fields["inputs"] {
        case nil: inputs = []
        case .string(let one)?: inputs = [one]
        case .strings(let many)?: inputs = many
        default: throw fail("inputs must be a list of layer names, e.g. inputs = [\"stem\", \"conv2\"]")
        }
        guard inputs.count <= Self.maxInputs else { throw fail("more than \(Self.maxInputs) inputs") }
    }

    /// The node as a layer table: the spec's fields plus `name` and `inputs` where set.
    public var fields: [String: FieldValue] {
        var f = spec.fields
        if let name { f["name"] = .string(name) }
        if !inputs.isEmpty { f["inputs"] = .strings(inputs) }
        return f
    }

    /// `name`, or `#N` (1-based) for an unnamed layer.
    func label(_ index: Int) -> String { name.map { "\"\($0)\"" } ?? "#\(index + 1)" }

    public static func isValidName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maxNameLength && text != inputName && Int(text) == nil
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                || $0 == "_" || $0 == "-" || $0 == ".") }
    }
}
