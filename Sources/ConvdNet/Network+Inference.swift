// Network+Inference: a forward pass for inference that uses threads where they pay. Networks
// that the inference plan covers (Inference/InferencePlan.swift) run through it, image by
// image, one run of images per thread. Otherwise, and for one image of a large network: a batch
// with at least two images per thread is cut into one run of images per thread, each run on
// its own copy of the network (layers keep per-batch scratch, so two runs cannot share one),
// each copy single-threaded. Anything smaller runs on this network, threaded inside the layers
// only when a sample's work is large: a small classifier on one image is faster on one thread
// than split across two.
import ConvdCore

extension Network {
    /// Multiply-adds per sample above which one image is worth splitting across threads.
    static let threadedSampleWork = 20_000_000

    /// Logits K×N for `input` in inference mode, on up to `threads` threads.
    public func infer(_ input: BatchTensor, threads: Int) -> BatchTensor {
        // One image of a large network keeps the layer path, threaded inside the layers.
        let splitsImage = input.batch < 2 && threads > 1 && sampleWork >= Self.threadedSampleWork
        if !splitsImage, let plan = currentPlan() {
            return plan.infer(input, threads: threads, workspaces: &planWorkspaces)
        }
        return inferByLayers(input, threads: threads)
    }

    /// The inference plan for the current weights, built again after any weight changed.
    func currentPlan() -> InferencePlan? {
        let version = weightsVersion
        if let cached = inferencePlan, cached.version == version { return cached.plan }
        let plan = InferencePlan(network: self)
        inferencePlan = (plan, version)
        return plan
    }

    /// Logits through the layers' own forward passes (what training runs).
    func inferByLayers(_ input: BatchTensor, threads: Int) -> BatchTensor {
        let runs = min(threads, input.batch / 2)
        guard runs > 1 else {
            var context = LayerContext(training: false, threads: sampleWork >= Self.threadedSampleWork ? threads : 1)
            return forward(input, context: &context)
        }
        let copies = [self] + replicas(runs - 1)
        let ranges = (0..<runs).map { i in (input.batch * i / runs)..<(input.batch * (i + 1) / runs) }
        let parts = ranges.map { input.samples($0) }
        // One slot per run, written by its thread only, read after every thread has finished.
        let slots = UnsafeMutablePointer<BatchTensor?>.allocate(capacity: runs)
        slots.initialize(repeating: nil, count: runs)
        defer {
            slots.deinitialize(count: runs)
            slots.deallocate()
        }
        let results = SharedPointer(slots), shared = UncheckedNetworks(copies)
        parallelFor(runs, threads: runs) { range in
            for i in range {
                var context = LayerContext(training: false, threads: 1)
                results.pointer[i] = shared.networks[i].forward(parts[i], context: &context)
            }
        }
        return BatchTensor(joiningSamples: (0..<runs).map { slots[$0]! })
    }

    /// Multiply-adds of one sample through the convolution and dense layers.
    var sampleWork: Int {
        layers.reduce(0) { total, layer in
            switch layer {
            case let conv as Conv2DLayer:
                return total + conv.patchSize * conv.outputShape.channels * conv.outputShape.height * conv.outputShape.width
            case let grouped as GroupedConv2DLayer:
                return total + grouped.weight.value.count * grouped.outputShape.height * grouped.outputShape.width
            case let dense as DenseLayer:
                return total + dense.weight.value.count
            default:
                return total
            }
        }
    }

    /// `count` copies of this network with its current weights and buffers: made once and
    /// kept, and handed this network's values (shared arrays, so no copy) whenever they
    /// changed, so training in between is seen. Inference never writes weights, so sharing them is safe.
    private func replicas(_ count: Int) -> [Network] {
        while inferenceReplicas.count < count {
            // The specs built this network once, so building them again cannot fail.
            guard let copy = try? Network(input: inputShape, nodes: nodes) else { preconditionFailure("rebuild failed") }
            inferenceReplicas.append(copy)
        }
        // Only copies behind this network's weights version are handed them (a hand-over
        // counts as a write in the copy, which would have its packed weights made again).
        let mine = parameters, myBuffers = buffers, version = weightsVersion
        while replicaVersions.count < inferenceReplicas.count { replicaVersions.append(-1) }
        for (i, copy) in inferenceReplicas.prefix(count).enumerated() where replicaVersions[i] != version {
            for (theirs, source) in zip(copy.parameters, mine) { theirs.value = source.value }
            for (theirs, source) in zip(copy.buffers, myBuffers) { theirs.value = source.value }
            replicaVersions[i] = version
        }
        return Array(inferenceReplicas.prefix(count))
    }
}

/// The networks handed to the threads of one `infer` call; each thread uses only its own.
private struct UncheckedNetworks: @unchecked Sendable {
    let networks: [Network]
    init(_ networks: [Network]) { self.networks = networks }
}
