// TransferLearning: a network to re-train, made from a trained one. Its layers are the source's,
// with the last dense layer (the head) replaced by a new one for the new labels when asked,
// every other weight and batch-norm statistic copied, and the layers up to a named one frozen
// (Network+Freezing.swift). Re-training then changes only what comes after the frozen layers.

/// Why a network cannot be re-trained as asked.
public struct TransferError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// Builds re-trainable networks from trained ones.
public enum TransferLearning {
    /// The source network's layers and weights, with a new head of `classes` outputs (nil: keep
    /// the head) drawn from `seed`, frozen through layer `freeze` (a name, or a layer number as
    /// `convd inspect` shows it; nil: nothing frozen).
    public static func network(from source: Network, replaceHead classes: Int?, freeze: String?, seed: UInt64)
        throws -> Network {
        var nodes = source.nodes
        var head: Int?
        if let classes {
            guard let h = nodes.lastIndex(where: { if case .dense = $0.spec { return true } else { return false } }) else {
                throw TransferError(message: "--replace-head: the model has no dense layer to replace")
            }
            nodes[h].spec = .dense(units: classes)
            head = source.nodeLayers[h]
        }
        let network = try Network(input: source.inputShape, nodes: nodes, seed: seed)
        for (i, (mine, theirs)) in zip(network.layers, source.layers).enumerated() where i != head {
            for (p, q) in zip(mine.parameters, theirs.parameters) where p.shape == q.shape { p.value = q.value }
            for (b, c) in zip(mine.buffers, theirs.buffers) where b.value.count == c.value.count { b.value = c.value }
        }
        if let freeze {
            guard let index = network.layerIndex(freeze) else {
                let names = network.nodes.compactMap(\.name)
                throw TransferError(message: "--freeze \(freeze): no layer has that name or number ("
                                    + (names.isEmpty ? "the layers have no names; give a number from `convd inspect`"
                                       : "names: " + names.joined(separator: ", ")) + ")")
            }
            let last = network.layers.lastIndex { !$0.parameters.isEmpty } ?? network.layers.count - 1
            guard index < last else {
                throw TransferError(message: "--freeze \(freeze): that would freeze every trained layer; freeze an "
                                    + "earlier one, before the head (layer \(last))")
            }
            network.freeze(through: index)
        }
        return network
    }
}
