// BatchTensor+Samples: cutting a C×N×H×W batch into runs of samples and joining them back,
// for inference that gives each thread its own images (Network+Inference.swift).

extension BatchTensor {
    /// Samples `range` as their own batch, C×range.count×H×W.
    public func samples(_ range: Range<Int>) -> BatchTensor {
        let map = mapSize
        var data: [Float] = []
        data.reserveCapacity(channels * range.count * map)
        for c in 0..<channels {
            let start = (c * batch + range.lowerBound) * map
            data += self.data[start..<(start + range.count * map)]
        }
        return BatchTensor(channels: channels, batch: range.count, height: height, width: width, data: data)
    }

    /// The batches' samples one after another (all of one per-sample shape), C×ΣN×H×W.
    public init(joiningSamples parts: [BatchTensor]) {
        precondition(!parts.isEmpty, "nothing to join")
        let first = parts[0], map = first.mapSize
        precondition(parts.allSatisfy { $0.sampleShape == first.sampleShape }, "samples of different shapes")
        var data: [Float] = []
        data.reserveCapacity(parts.reduce(0) { $0 + $1.data.count })
        for c in 0..<first.channels {
            for part in parts { data += part.data[(c * part.batch * map)..<((c + 1) * part.batch * map)] }
        }
        self.init(channels: first.channels, batch: parts.reduce(0) { $0 + $1.batch }, height: first.height,
                  width: first.width, data: data)
    }
}
