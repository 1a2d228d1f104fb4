// Trainer+FeatureCache: with a frozen backbone and no augmentation, every epoch would compute
// the same backbone outputs again. They are computed once per image instead (inference mode,
// batches of 256, all threads) and the trainable layers train on them. With augmentation each
// batch's images differ every epoch, so the backbone runs per batch (once per image per epoch).

import ConvdCore

/// The frozen backbone's output for every training sample, sample by sample (C×H×W each).
struct FeatureCache {
    /// The frozen layer whose output is cached.
    let boundary: Int
    let shape: SampleShape
    let features: [Float]

    /// Largest cache, in floats (1 GiB).
    static let maxFloats = 1 << 28

    /// The cache for `network` on `data`, or nil when the network has no single frozen
    /// boundary or the features would pass `maxFloats`.
    init?(_ network: Network, data: Dataset, input: InputSpec, threads: Int) {
        guard let boundary = network.frozenBoundary else { return nil }
        let shape = network.layers[boundary].outputShape
        let size = shape.channels * shape.height * shape.width
        guard let total = CheckedSize.product([size, data.count]), total <= Self.maxFloats else { return nil }
        var features = [Float](repeating: 0, count: total)
        var random = SplitMix64(seed: 0)
        var start = 0
        while start < data.count {
            let indices = Array(start..<min(start + 256, data.count))
            let batch = Trainer.batch(data, indices, input: input, augmentation: .none, random: &random)
            var context = LayerContext(training: false, threads: threads)
            let out = network.forward(batch, context: &context, through: boundary)
            for (s, i) in indices.enumerated() { out.copySample(s, into: &features, at: i * size) }
            start += indices.count
        }
        self.boundary = boundary
        self.shape = shape
        self.features = features
    }

    /// The cached features of `indices` as a C×N×H×W batch.
    func batch(_ indices: [Int]) -> BatchTensor {
        let map = shape.height * shape.width, size = shape.channels * map, n = indices.count
        var out = BatchTensor(channels: shape.channels, batch: n, height: shape.height, width: shape.width)
        for (s, i) in indices.enumerated() {
            for c in 0..<shape.channels {
                let src = i * size + c * map, dst = (c * n + s) * map
                out.data.replaceSubrange(dst..<(dst + map), with: features[src..<(src + map)])
            }
        }
        return out
    }
}

extension BatchTensor {
    /// Copies sample `n` (C×H×W) into `buffer` at `offset`.
    func copySample(_ n: Int, into buffer: inout [Float], at offset: Int) {
        let map = mapSize
        for c in 0..<channels {
            let src = (c * batch + n) * map
            buffer.replaceSubrange((offset + c * map)..<(offset + (c + 1) * map), with: data[src..<(src + map)])
        }
    }
}
