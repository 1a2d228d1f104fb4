// ImagePipeline: one image through decode → chain → model → outputs, the same for `convd
// filter`, `convd classify` and the daemon. Every limit is checked here, in order, before the
// buffer it guards is made: the file size, the header's pixel count, the chain's shapes, then
// the job's peak memory (JobMemory) against `maxJobBytes`. Output files are made and written
// one at a time, through a folder descriptor, under O_EXCL temporary names.
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdSystem

/// What to do with each image.
public struct ImagePipeline: Sendable {
    /// The filter chain, if any.
    public var chain: ChainSpec?
    /// How the maps are written; nil writes none.
    public var output: FeatureMapOutput?
    /// What the model needs per image; nil when there is no model.
    public var model: ModelFootprint?
    /// Labels kept per classification.
    public var topK: Int
    /// Sample scale, background and the file and pixel limits.
    public var decode: DecodeOptions
    /// The most memory one job may take at its peak.
    public var maxJobBytes: Int
    /// Threads for the convolutions and the model.
    public var threads: Int

    /// A pipeline.
    public init(chain: ChainSpec? = nil, output: FeatureMapOutput? = nil, model: ModelFootprint? = nil,
                topK: Int = 3, decode: DecodeOptions = DecodeOptions(), maxJobBytes: Int, threads: Int = 1) {
        self.chain = chain
        self.output = output
        self.model = model
        self.topK = topK
        self.decode = decode
        self.maxJobBytes = maxJobBytes
        self.threads = threads
    }

    /// Checks `bytes` against every limit without decoding it, and returns the job's memory.
    public func plan(_ bytes: [UInt8], path: String) throws(PipelineError) -> JobMemory {
        let limits = decode.limits
        guard bytes.count <= limits.maxFileBytes else {
            throw .refused(ImageError(path: path, reason: "file is \(bytes.count) bytes, over the limit of "
                                      + "\(limits.maxFileBytes) bytes"))
        }
        let header: PNGHeader
        do {
            header = try PNGCodec.header(of: bytes, path: path)
        } catch {
            throw .undecodable(error)
        }
        let pixels = header.width.multipliedReportingOverflow(by: header.height)
        guard !pixels.overflow, pixels.partialValue <= limits.maxPixels else {
            throw .refused(ImageError(path: path, reason: "\(header.width)×\(header.height) is "
                                      + "\(pixels.overflow ? "too many" : "\(pixels.partialValue)") pixels, "
                                      + "over the limit of \(limits.maxPixels) pixels"))
        }
        var shapes: [TensorShape] = []
        if let chain {
            let input = TensorShape(channels: header.tensorChannels, height: header.height, width: header.width)
            do {
                shapes = try chain.chain.shapes(for: input)
            } catch {
                throw .refused(ImageError(path: path, reason: error.description))
            }
        }
        let memory = JobMemory(header: header, fileBytes: bytes.count, chain: chain?.chain, shapes: shapes,
                               output: output, model: model)
        guard memory.bytes <= maxJobBytes else {
            throw .refused(ImageError(path: path, reason: "\(header.width)×\(header.height) needs about "
                                      + "\(Self.mebibytes(memory.bytes)) of memory at \(memory.phase), over "
                                      + "max_job_bytes (\(Self.mebibytes(maxJobBytes)))"))
        }
        return memory
    }

    /// Runs the job on the PNG `bytes` (`path` names it in errors) with this worker's `model`
    /// instance, which must be the model `self.model` describes.
    public func run(_ bytes: [UInt8], path: String, model instance: (any ImageClassifier)? = nil) throws(PipelineError)
        -> PipelineResult {
        let started = monotonicClock()
        _ = try plan(bytes, path: path)
        let image: Tensor
        do {
            image = try PNGCodec.decode(bytes, path: path, options: decode)
        } catch {
            throw .undecodable(error)
        }
        var maps = image
        if let chain {
            do {
                maps = try chain.chain.apply(image, threads: threads)
            } catch {
                throw .refused(ImageError(path: path, reason: error.description))
            }
        }
        var classification: Classification?
        if let instance {
            let probabilities = instance.classify([maps], threads: threads)[0]
            guard probabilities.allSatisfy(\.isFinite) else {
                throw .refused(ImageError(path: path, reason: "the model gave scores that are not finite numbers"))
            }
            classification = Classification(probabilities: probabilities, labels: instance.labels, k: topK)
        }
        return PipelineResult(maps: maps, classification: classification,
                              milliseconds: (monotonicClock() - started) * 1000)
    }

    /// Writes the output files of `maps` into `folder`, named `stem` + `.<chain>.fm00.png`, ...;
    /// returns their paths (as PathKeys below `folder`'s path).
    public func writeMaps(_ maps: Tensor, stem: [UInt8], into folder: Directory) throws(PipelineError) -> [String] {
        let staged = try stageMaps(maps, stem: stem, into: folder)
        for file in staged { file.startWriteback() }
        do {
            for file in staged { try file.commit() }
        } catch {
            throw .write(error)
        }
        return staged.map(\.path)
    }

    /// The output files of `maps`, written under temporary names in `folder` and not yet
    /// durable: the caller commits them (the daemon commits a batch of jobs' files together).
    public func stageMaps(_ maps: Tensor, stem: [UInt8], into folder: Directory) throws(PipelineError) -> [StagedFile] {
        guard let output else { return [] }
        var staged: [StagedFile] = []
        for (index, suffix) in output.fileNames(stem: "", mapCount: maps.channels).enumerated() {
            let name = stem + Array(suffix.utf8)
            let bytes: [UInt8]
            do {
                bytes = try output.file(index, of: maps)
            } catch {
                throw .refused(ImageError(path: folder.childPath(name), reason: error.reason))
            }
            do {
                staged.append(try StagedFile(bytes, as: name, in: folder))
            } catch {
                throw .write(error)
            }
        }
        return staged
    }

    /// The stem of an input's file name for its output names: the name without `.png` when it
    /// ends in exactly that, else the whole name — so `a.png` and `a.PNG` get distinct outputs.
    public static func stem(ofName name: [UInt8]) -> [UInt8] {
        let suffix = Array(".png".utf8)
        guard name.count > suffix.count, name.suffix(suffix.count).elementsEqual(suffix) else { return name }
        return Array(name.dropLast(suffix.count))
    }

    /// `12.5 MiB`.
    static func mebibytes(_ bytes: Int) -> String {
        bytes == .max ? "more than the address space" : "\((Double(bytes) / 104_857.6).rounded() / 10) MiB"
    }
}

/// What one job produced.
public struct PipelineResult {
    /// The chain's output, or the image when there is no chain.
    public let maps: Tensor
    /// The labels, when there is a model.
    public let classification: Classification?
    /// Decode, chain and model time.
    public let milliseconds: Double
}

/// Why a job did not finish. The case decides the retry policy, never the text.
public enum PipelineError: Error, CustomStringConvertible {
    /// libpng could not read it: corrupt, or still being written.
    case undecodable(ImageError)
    /// It can never be processed: over a limit, or a shape the chain cannot take.
    case refused(ImageError)
    /// An output could not be written (the SystemError's policy says whether that passes).
    case write(SystemError)

    /// `<path>: <reason>`.
    public var description: String {
        switch self {
        case .undecodable(let e), .refused(let e): e.description
        case .write(let e): e.description
        }
    }
}
