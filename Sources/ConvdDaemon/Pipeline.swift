// Pipeline: what one watch does to each file, resolved from the config — the parsed chain,
// the model file's bytes (each worker decodes its own copy: layers keep scratch buffers),
// output formats and limits. Resolution is where a chain that does not fit its model, an
// unparsable chain or an unreadable model file is found, before any watch starts.
import ConvdConfig
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdOnnx
import ConvdPipeline
import ConvdSystem

/// A model as the config names it, loaded and checked.
public struct LoadedModel: Sendable {
    /// What the workers make their instances from.
    public enum Source: Sendable {
        /// A convd model file's bytes, decoded per worker (its layers keep scratch buffers).
        case convd([UInt8])
        /// An imported ONNX graph, immutable, shared by the workers.
        case onnx(OnnxClassifier)
    }

    public let name: String
    public let path: String
    public let topK: Int
    public let source: Source
    /// The image size and channels the model takes.
    public let input: InputSpec
    public let labels: [String]
    public let parameterCount: Int

    /// The model as it is resolved from `settings`: read, decoded or imported, and checked.
    public init(_ settings: ModelSettings) throws {
        name = settings.name
        path = settings.path
        topK = settings.topK
        if OnnxModelFile.isOnnx(settings.path) {
            let model = try OnnxModelFile.load(settings.path, config: settings.config)
            let p = model.preprocessing
            source = .onnx(model)
            input = InputSpec(width: p.width, height: p.height, channels: p.channels)
            labels = model.labels
            parameterCount = model.graph.parameterCount
        } else {
            let bytes = try FileIO.readAll(settings.path, limit: 1 << 30)
            let model = try ModelFile.decode(bytes, path: settings.path)
            source = .convd(bytes)
            input = model.input
            labels = model.labels
            parameterCount = model.network.parameterCount
        }
    }

    /// A worker's instance: a convd model decoded once more, or the shared ONNX graph.
    public func instantiate() throws -> any ImageClassifier {
        switch source {
        case .convd(let bytes): try ModelFile.decode(bytes, path: path)
        case .onnx(let model): model
        }
    }

    /// What the model needs per image.
    func footprint() throws -> ModelFootprint {
        switch source {
        case .convd(let bytes): ModelFootprint(try ModelFile.decode(bytes, path: path))
        case .onnx(let model): ModelFootprint(model)
        }
    }

    /// Bytes each worker keeps of this model (an ONNX graph's weights are shared: counted once
    /// per worker all the same, a safe overestimate).
    var residentBytes: Int {
        switch source {
        case .convd(let bytes): bytes.count
        case .onnx(let model): model.graph.parameterCount * 4
        }
    }
}

/// A watch's resolved processing: its settings, its model and the image pipeline they make.
public struct Pipeline: Sendable {
    public let watch: WatchSettings
    public let model: LoadedModel?
    /// Decode → chain → model → outputs, with the limits.
    public let image: ImagePipeline

    /// The chain, if any.
    public var chain: ChainSpec? { image.chain }

    /// Resolves every watch of `config`, reporting all problems at once.
    public static func resolveAll(_ config: DaemonConfig) throws(ConfigError) -> [Pipeline] {
        var issues: [ConfigIssue] = []
        var models: [String: (LoadedModel, ModelFootprint)] = [:]
        for m in config.models where config.watches.contains(where: { $0.model == m.name }) {
            do {
                let model = try LoadedModel(m)
                models[m.name] = (model, try model.footprint())
            } catch {
                issues.append(ConfigIssue("models.\(m.name).path", "\(error)"))
            }
        }
        let maxJobBytes = config.daemon.maxJobBytes ?? defaultJobBytes(config, models: models.values.map(\.0))
        var pipelines: [Pipeline] = []
        for (i, w) in config.watches.enumerated() {
            let chain = w.chain.flatMap { config.chain(named: $0)?.spec }
            let model = w.model.flatMap { models[$0] }
            if let chain, let model, let problem = mismatch(chain, model.0) {
                issues.append(ConfigIssue("watch[\(i + 1)]", problem))
            }
            let output = chain.map { FeatureMapOutput(chainName: $0.name, formats: w.formats,
                                                      renderer: FeatureMapRenderer(compressionLevel: w.pngCompression)) }
            let limits = ImageLimits(maxPixels: config.daemon.maxPixels, maxFileBytes: config.daemon.maxFileBytes)
            let image = ImagePipeline(chain: chain, output: output, model: model?.1, topK: model?.0.topK ?? 3,
                                      decode: DecodeOptions(limits: limits), maxJobBytes: maxJobBytes)
            pipelines.append(Pipeline(watch: w, model: model?.0, image: image))
        }
        guard issues.isEmpty else { throw ConfigError(file: config.file, issues: issues) }
        return pipelines
    }

    /// The default `max_job_bytes`: the process's memory limit, less the reserve and one
    /// instance of every model per worker, shared by the workers.
    static func defaultJobBytes(_ config: DaemonConfig, models: [LoadedModel]) -> Int {
        let workers = config.daemon.workers
        let resident = models.reduce(0) { $0 + $1.residentBytes } * workers
        return MemoryBudget.defaultJobBytes(workers: workers, resident: resident)
    }

    /// Why `chain` cannot feed `model`: the chain must take a model-sized gray or colour image,
    /// and give the model 1 map, 3 maps or as many as it has channels.
    static func mismatch(_ chain: ChainSpec, _ model: LoadedModel) -> String? {
        var failures: [String] = []
        for channels in [1, 3] {
            let input = TensorShape(channels: channels, height: model.input.height, width: model.input.width)
            do {
                let out = try chain.chain.outputShape(for: input)
                if out.channels != model.input.channels && !(out.channels == 1 || out.channels == 3) {
                    return "chain \"\(chain.name)\" makes \(out.channels) maps but model \"\(model.name)\" takes "
                        + "\(model.input.channels) channel(s)"
                }
                return nil
            } catch {
                failures.append("\(error)")
            }
        }
        return "chain \"\(chain.name)\" cannot take a \(model.input.width)×\(model.input.height) image, the size of "
            + "model \"\(model.name)\": " + (failures.first ?? "")
    }

    /// Lines for `check-config`: what the pipeline does and the chain's shapes.
    public func summary() -> [String] {
        var lines: [String] = []
        if let chain {
            lines.append("chain \(chain.name): \(chain.chain.entries.map(\.text).joined(separator: " | "))")
            let side = model.map { ($0.input.height, $0.input.width) } ?? (512, 512)
            for channels in [1, 3] {
                let input = TensorShape(channels: channels, height: side.0, width: side.1)
                if let shapes = try? chain.chain.shapes(for: input) {
                    lines.append("  shapes for a \(input) image: " + ([input] + shapes).map(\.description)
                        .joined(separator: " → "))
                }
            }
            lines.append("  writes: " + OutputFormats.names.filter { watch.formats.contains($0.1) }.map(\.0)
                .joined(separator: ", "))
        }
        if let model {
            lines.append("model \(model.name): \(model.path)")
            lines.append("  input \(model.input.width)×\(model.input.height)×\(model.input.channels), "
                         + "\(model.labels.count) labels, \(model.parameterCount) parameters, top \(model.topK)")
            if case .onnx(let onnx) = model.source {
                lines.append("  ONNX: \(onnx.graph.provenance), \(onnx.graph.nodeCount) nodes; preprocessing "
                             + onnx.preprocessing.summary + "; labels from \(onnx.labelSource)")
            }
        }
        return lines
    }
}
