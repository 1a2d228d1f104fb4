// Network+Freezing: transfer learning's frozen backbone. The first `frozenLayers` layers keep
// their weights and batch-norm statistics: in training they run in inference mode, get no
// gradient, and only `trainableParameters` go to the optimizer. When the trainable layers read
// a single frozen tensor (the boundary), the trainer can compute it once per image and train
// the rest on those cached features (Trainer+FeatureCache.swift).

extension Network {
    /// Freezes the layers up to and including `layers[index]` (-1: none).
    public func freeze(through index: Int) {
        precondition(index < layers.count - 1, "the last layer must stay trainable")
        frozenLayers = max(index + 1, 0)
    }

    /// The parameters training updates: those after the frozen layers.
    public var trainableParameters: [Parameter] { layers[frozenLayers...].flatMap(\.parameters) }

    /// The index in `layers` of a node by name, or by its number as `convd inspect` shows it.
    public func layerIndex(_ reference: String) -> Int? {
        if let node = nodes.firstIndex(where: { $0.name == reference }) { return nodeLayers[node] }
        if let number = Int(reference), layers.indices.contains(number) { return number }
        return nil
    }

    /// The one frozen layer whose output the trainable layers read, when nothing else frozen
    /// (nor the network input) is read by them; nil when nothing is frozen.
    public var frozenBoundary: Int? {
        guard frozenLayers > 0 else { return nil }
        var read = Set<Int>()
        for i in frozenLayers..<layers.count { for j in layerInputs[i] where j < frozenLayers { read.insert(j) } }
        guard read.count == 1, let only = read.first, only >= 0 else { return nil }
        return only
    }
}
