// JobMemory: the peak of the buffers one job holds at once, computed from the PNG header and
// the chain's shapes before anything is decoded, so that a job over `max_job_bytes` fails
// before it allocates. The phases and what is live in each:
//   decode   the file, libpng's interleaved samples, the float image
//   step i   the image (kept for the model), the step's input and output, its scratch
//            (im2col copies the planes it uses and unfolds a band of at most ≈16 MiB; the
//            direct path's band buffers, at most 1 MiB per thread, are in the overhead)
//   outputs  the maps and one output file being made (the files are written one at a time)
//   model    the maps, their gray/RGB copy, the resized input and the network's activations
// Every phase adds `overhead` for what is small but not nothing: libpng's and zlib's state,
// row pointers, the allocator's slack. Sizes are saturating: an absurd shape gives Int.max,
// never an overflow trap.
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdOnnx

/// The memory a job needs at its peak, and where that peak is.
public struct JobMemory: Sendable, Equatable {
    /// Bytes at the peak.
    public let bytes: Int
    /// The phase of the peak: `decode`, `step 2 "conv(sobel-x)"`, `outputs` or `model`.
    public let phase: String

    /// Added to every phase: codec state, row pointers, allocator slack.
    public static let overhead = 4 << 20

    /// The estimate for a file of `fileBytes` whose header is `header`, through `chain`
    /// (shapes as `chain.shapes(for:)` gives them), written as `output`, classified with
    /// `model`.
    public init(header: PNGHeader, fileBytes: Int, chain: FilterChain?, shapes: [TensorShape],
                output: FeatureMapOutput?, model: ModelFootprint?) {
        let pixels = header.width ⊗ header.height
        let stored = (header.colorType.baseChannels + (header.hasTransparency ? 1 : 0)).clamped(to: 1...4)
        let image = TensorShape(channels: header.tensorChannels, height: header.height, width: header.width)
        var phases: [(String, Int)] = [
            ("decode", fileBytes ⊕ (pixels ⊗ stored ⊗ (header.bitDepth == 16 ? 2 : 1)) ⊕ image.bytes),
        ]
        var input = image
        for (i, entry) in (chain?.entries ?? []).enumerated() where i < shapes.count {
            let out = shapes[i]
            let held = i == 0 ? image.bytes : image.bytes ⊕ input.bytes
            phases.append(("step \(i + 1) \"\(entry.text)\"", held ⊕ out.bytes ⊕ Self.scratch(entry.step, input, out)))
            input = out
        }
        let maps = input
        if let output { phases.append(("outputs", maps.bytes ⊕ Self.largestFile(output, maps))) }
        if let model {
            let converted = TensorShape(channels: model.channels, height: maps.height, width: maps.width)
            phases.append(("model", maps.bytes ⊕ converted.bytes ⊕ model.bytes))
        }
        let peak = phases.max { $0.1 < $1.1 }!
        bytes = peak.1 ⊕ Self.overhead
        phase = peak.0
    }

    /// Extra buffers of one step besides its input and output.
    static func scratch(_ step: ChainStep, _ input: TensorShape, _ output: TensorShape) -> Int {
        guard case .convolution(let conv) = step, conv.stride != 1 else { return 0 }
        // im2col: the planes of the terms, the unfolded band (at least one output row), the product.
        let patch = input.channels ⊗ (conv.kernels.first?.height ?? 1) ⊗ (conv.kernels.first?.width ?? 1)
        let band = max(16 << 20, patch ⊗ output.width ⊗ 4)
        return input.bytes ⊕ band ⊕ (band / max(1, patch))
    }

    /// The largest of the files written for `maps`, with the buffers made on the way.
    static func largestFile(_ output: FeatureMapOutput, _ maps: TensorShape) -> Int {
        let plane = maps.height ⊗ maps.width
        var largest = 0
        if output.formats.contains(.png) { largest = max(largest, plane ⊗ 10) }   // copy, normalised, 8-bit, encoded
        if output.formats.contains(.png16) { largest = max(largest, plane ⊗ 12) }
        if output.formats.contains(.npy) { largest = max(largest, maps.bytes ⊕ 4096) }
        if output.formats.contains(.montage) {
            let (rows, columns) = FeatureMapRenderer.grid(count: maps.channels)
            let gap = FeatureMapRenderer.separator
            let grid = (rows ⊗ (maps.height ⊕ gap)) ⊗ (columns ⊗ (maps.width ⊕ gap))
            largest = max(largest, maps.bytes ⊕ grid ⊗ 2)
        }
        return largest
    }
}

/// What a model needs per image, besides its input: its input shape and the bytes of its
/// activations for one image (every layer's output, twice for the layers' own scratch).
public struct ModelFootprint: Sendable, Equatable {
    /// 1 or 3.
    public let channels: Int
    /// The resized input, its normalised copy and the activations.
    public let bytes: Int

    /// The footprint of a model whose input is `input` and whose layers output `outputs`
    /// elements each.
    public init(input: TensorShape, layerOutputs: [Int]) {
        channels = input.channels
        bytes = (input.bytes ⊗ 2) ⊕ (layerOutputs.reduce(0, ⊕) ⊗ 8)
    }

    /// The footprint of `model`, its maps counted about as the inference plan stores them:
    /// channels in blocks of 16 lanes, inside a border.
    public init(_ model: Model) {
        self.init(input: model.input.shape, layerOutputs: model.network.layers.map { layer in
            let shape = layer.outputShape
            return ((shape.channels + 15) / 16 * 16) ⊗ (shape.height ⊕ 2) ⊗ (shape.width ⊕ 2)
        })
    }
}

extension ModelFootprint {
    /// The footprint of an imported graph: its input (resized, normalised) and the most its
    /// run holds at once, the kernels' scratch included (`layerOutputs` counts 8 bytes each).
    public init(_ model: OnnxClassifier) {
        let p = model.preprocessing
        self.init(input: TensorShape(channels: p.channels, height: p.height, width: p.width),
                  layerOutputs: [(model.graph.peakBytes + 7) / 8])
    }
}

extension TensorShape {
    /// Bytes of a float32 tensor of this shape.
    var bytes: Int { channels ⊗ height ⊗ width ⊗ 4 }
}

extension PNGHeader.ColorType {
    /// Samples per pixel as stored, before tRNS adds alpha (a palette expands to RGB).
    var baseChannels: Int {
        switch self {
        case .gray: 1
        case .grayAlpha: 2
        case .rgb, .palette: 3
        case .rgba: 4
        }
    }
}

extension Int {
    func clamped(to range: ClosedRange<Int>) -> Int { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}

infix operator ⊗: MultiplicationPrecedence
infix operator ⊕: AdditionPrecedence

/// Saturating product of sizes (never negative: sizes are not).
func ⊗ (a: Int, b: Int) -> Int {
    let (p, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow || p < 0 ? .max : p
}

/// Saturating sum of sizes.
func ⊕ (a: Int, b: Int) -> Int {
    let (s, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : s
}
