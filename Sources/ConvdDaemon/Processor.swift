// Processor: one job through its watch's pipeline — check the file is the version claimed
// and has settled, read it (size limit), decode (pixel limit), run the chain, classify, and
// write the outputs below the output root. Each worker thread owns one Processor, and with
// it its own model instances. Errors are sorted: anything about the input is permanent,
// anything about writing outputs is transient (the disk may get space back).
import ConvdCore
import ConvdImage
import ConvdNet
#if canImport(Glibc)
import Glibc
#endif

/// What a job's processing produced.
struct JobResult {
    var classification: Classification?
    var outputs: [String]
    var milliseconds: Double
}

/// What became of one job.
enum JobOutcome {
    case done(JobResult)
    /// The input cannot be processed (not a PNG, corrupt, over a limit, a symlink, ...);
    /// `retryable` when it may only be incomplete (a decode error): even a file renamed into
    /// the folder may still grow (Foundation's createFile renames an empty file into place
    /// before the caller writes to it).
    case failed(String, retryable: Bool)
    /// Writing failed for a reason that may pass (disk full, output folder missing, ...).
    case transient(String)
    /// The file is another version now.
    case changed(FileVersion)
    /// Written too recently: may still be growing.
    case notSettled(until: Double)
    /// Gone before it was read.
    case vanished
}

final class Processor {
    private var models: [String: Model] = [:]

    /// Forgets model instances (after a reload).
    func reset() { models.removeAll() }

    func process(_ job: Job, pipeline: Pipeline, now: Double) -> JobOutcome {
        let watch = pipeline.watch
        let input = watch.input + "/" + job.path
        guard let version = FileVersion(path: input) else { return .vanished }
        let current = FileVersion(size: version.size, mtimeNs: version.mtimeNs, inode: version.inode)
        if current != FileVersion(size: job.version.size, mtimeNs: job.version.mtimeNs, inode: job.version.inode) {
            return .changed(current)
        }
        let settle = Double(watch.settleMs) / 1000
        if !job.moved && now - version.mtime < settle { return .notSettled(until: version.mtime + settle) }
        if version.isSymlink && !watch.followSymlinks {
            return .failed("\(input): is a symbolic link; links are not followed unless the watch sets follow_symlinks = true",
                           retryable: false)
        }
        // This worker's instance of the model, made on first use (not part of the timing).
        var model: Model?
        if let loaded = pipeline.model {
            if let cached = models[loaded.name] {
                model = cached
            } else {
                do {
                    model = try loaded.instantiate()
                } catch {
                    return .transient("\(loaded.path): \(error)")
                }
                models[loaded.name] = model
            }
        }
        let started = monotonicClock()
        let image: Tensor
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(input, limit: pipeline.limits.maxFileBytes)
            image = try PNGCodec.decode(bytes, path: input, options: DecodeOptions(limits: pipeline.limits))
        } catch {
            let overLimit = error.reason.contains("limit")
            return .failed(error.description, retryable: !overLimit)
        }
        if !version.isSymlink, let after = FileVersion(path: input), after.mtimeNs != version.mtimeNs || after.size != version.size {
            return .changed(FileVersion(size: after.size, mtimeNs: after.mtimeNs, inode: after.inode))
        }
        var maps = image
        if let chain = pipeline.chain {
            do {
                maps = try chain.chain.apply(image)
            } catch {
                return .failed("\(input): \(error.description)", retryable: false)
            }
        }
        var classification: Classification?
        if let loaded = pipeline.model, let model {
            let probabilities = model.classify([maps], threads: 1)[0]
            classification = Classification(probabilities: probabilities, labels: model.labels, k: loaded.topK)
        }
        let milliseconds = (monotonicClock() - started) * 1000
        var outputs: [String] = []
        do {
            let folder = try OutputTree.folder(root: watch.output, relative: OutputTree.folderPart(job.path))
            let stem = FilterJob.stem(of: job.path)
            if let output = pipeline.output {
                do {
                    outputs += try output.write(maps, stem: stem, into: folder)
                } catch {
                    throw DaemonError(error.description)
                }
            }
            if let classification, let loaded = pipeline.model {
                let path = folder + "/" + stem + ".label.json"
                try OutputTree.write(Self.labelJSON(file: input, watch: watch.name, model: loaded.name,
                                                    classification) + "\n", to: path)
                outputs.append(path)
            }
        } catch {
            return .transient("\(error)")
        }
        return .done(JobResult(classification: classification, outputs: outputs, milliseconds: milliseconds))
    }

    /// `photo.label.json`: the labels of one image.
    static func labelJSON(file: String, watch: String, model: String, _ c: Classification) -> String {
        var json = JSONText()
        json.add("file", file)
        json.add("watch", watch)
        json.add("model", model)
        json.add("label", c.label)
        json.add("confidence", Double(c.confidence))
        json.add("top", raw: topJSON(c))
        return json.text
    }

    /// `[[label, p], ...]`.
    static func topJSON(_ c: Classification) -> String {
        "[" + c.top.map { "[\(JSONText.string($0.0)),\(JSONText.number(Double($0.1)))]" }.joined(separator: ",") + "]"
    }
}
