// Processor: one job through its watch's pipeline — check the file is the version claimed
// and has settled, read it (size limit), decode (pixel limit), run the chain, classify, and
// stage the outputs below the output root (the committer makes them durable). Every
// path is opened from its tree's root without following symlinks, and the input is read
// through the descriptor whose inode and size match the ledger's version. Each worker thread
// owns one Processor, and with it its own model instances. Errors are sorted by their type
// (SystemError.policy), never by their text.
import ConvdCore
import ConvdImage
import ConvdNet
import ConvdPipeline
import ConvdSystem
#if canImport(Glibc)
import Glibc
#endif

/// What a job's processing produced. Its output files are staged, not yet committed: the
/// committer makes a group of jobs' files durable together before the ledger finishes them.
struct JobResult {
    var classification: Classification?
    var staged: [StagedFile]
    var milliseconds: Double
    /// The inode that was read (the after-action moves or deletes only that one).
    var inode: Int64

    /// The outputs' paths.
    var outputs: [String] { staged.map(\.path) }
}

/// What became of one job.
enum JobOutcome {
    case done(JobResult)
    /// The input can never be processed (over a limit, a symlink, a FIFO, a name too long for
    /// its outputs, ...): failed at once.
    case failed(SystemError)
    /// libpng could not decode it: perhaps only incomplete (even a file renamed into the folder
    /// may still grow: Foundation's createFile renames an empty file into place before the
    /// caller writes to it), so it is tried again a few times before it fails.
    case undecodable(ImageError)
    /// Writing failed for a reason that may pass (disk full, output folder missing, ...).
    case transient(SystemError)
    /// The file is another version now.
    case changed(FileVersion)
    /// Written too recently: may still be growing.
    case notSettled(until: Double)
    /// Gone before it was read.
    case vanished
}

final class Processor {
    private var models: [String: any ImageClassifier] = [:]
    /// Whether a version includes the inode (one host) or only size and mtime (a fleet on
    /// shared storage, where inode numbers differ between hosts).
    private let keysInode: Bool

    init(keysInode: Bool) { self.keysInode = keysInode }

    #if DEBUG
    private static let crashMarker = getenv("CONVD_TEST_CRASH_ON").map { String(cString: $0) }
    private static let slowMarker = getenv("CONVD_TEST_SLOW_ON").map { String(cString: $0) }
    #endif

    /// Forgets model instances (after a reload).
    func reset() { models.removeAll() }

    /// Makes this worker's instance of each model before a file needs it, and runs it once on
    /// a blank image so that its inference plan is built (weights packed): the first file of a
    /// burst does not wait for either. A model that cannot be made is left to the first job,
    /// which reports it.
    func prepare(_ pipelines: [Pipeline]) {
        for loaded in pipelines.compactMap(\.model) where models[loaded.name] == nil {
            guard let model = try? instance(of: loaded) else { continue }
            // An imported graph's weights were packed at import: nothing to warm up.
            if case .onnx = loaded.source { continue }
            let input = loaded.input
            let blank = Tensor(channels: input.channels, height: input.height, width: input.width,
                               scalars: [Float](repeating: 0, count: input.channels * input.height * input.width))
            _ = model.classify([blank], threads: 1)
        }
    }

    /// This worker's instance of `loaded`, made on first use.
    private func instance(of loaded: LoadedModel) throws -> any ImageClassifier {
        if let cached = models[loaded.name] { return cached }
        let model = try loaded.instantiate()
        models[loaded.name] = model
        return model
    }

    func process(_ job: Job, pipeline: Pipeline, now: Double) -> JobOutcome {
        let watch = pipeline.watch
        let display = watch.input + "/" + job.path
        #if DEBUG
        // Test hook (debug builds only): a file whose name holds $CONVD_TEST_CRASH_ON kills the
        // process, as a decoder bug would — the poison-pill tests need a file that crashes.
        if let marker = Self.crashMarker, job.path.contains(marker) { abort() }
        // And one whose name holds $CONVD_TEST_SLOW_ON takes 3 s: the fleet tests stop a node
        // while it surely holds a lease.
        if let marker = Self.slowMarker, job.path.contains(marker) { usleep(3_000_000) }
        #endif
        guard let path = RelativePath(key: job.path) else {
            return .failed(.init(path: display, reason: "not a plain relative path"))
        }
        // The input, reached from its root one folder at a time, never through a symlink.
        let file: OpenFile
        do {
            file = try OutputTree.folder(root: watch.input, path, create: false)
                .openFile(path.name, follow: watch.followSymlinks)
        } catch where error.code == ENOENT {
            return .vanished
        } catch where [EMFILE, ENFILE, ENOMEM].contains(error.code) {
            return .transient(error)  // the daemon's own shortage, not the file's fault
        } catch {
            return .failed(error)
        }
        let current = FileVersion(stat: file.info)
        if current.size != job.version.size || current.mtimeNs != job.version.mtimeNs
            || (keysInode && current.inode != job.version.inode) {
            return .changed(current)
        }
        let settle = Double(watch.settleMs) / 1000
        if !job.moved && now - current.mtime < settle { return .notSettled(until: current.mtime + settle) }
        // This worker's instance of the model, made on first use (not part of the timing).
        var model: (any ImageClassifier)?
        if let loaded = pipeline.model {
            do {
                model = try instance(of: loaded)
            } catch {
                return .transient(SystemError(path: loaded.path, reason: "\(error)"))
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try file.readAll(limit: pipeline.image.decode.limits.maxFileBytes)
        } catch {
            return error.policy == .transient ? .transient(error) : .failed(error)
        }
        // Read through the descriptor: the same inode; a write while we read makes a new version.
        var after = stat()
        if fstat(file.fd, &after) == 0 {
            let version = FileVersion(stat: after)
            if version.mtimeNs != current.mtimeNs || version.size != current.size { return .changed(version) }
        }
        let result: PipelineResult
        do {
            result = try pipeline.image.run(bytes, path: display, model: model)
        } catch {
            return Self.outcome(error)
        }
        // An output folder that cannot be reached (missing root, a symlink in the way) is the
        // operator's to fix: the file waits.
        let folder: Directory
        do {
            folder = try OutputTree.folder(root: watch.output, path, create: true)
        } catch {
            return .transient(error)
        }
        var staged: [StagedFile]
        do {
            staged = try pipeline.image.stageMaps(result.maps, stem: path.stem, into: folder)
        } catch {
            return Self.outcome(error)
        }
        if let classification = result.classification, let loaded = pipeline.model {
            let text = Self.labelJSON(file: display, watch: watch.name, model: loaded.name, classification) + "\n"
            do {
                staged.append(try StagedFile(Array(text.utf8), as: path.stem + Array(".label.json".utf8), in: folder))
            } catch {
                return Self.outcome(.write(error))
            }
        }
        return .done(JobResult(classification: result.classification, staged: staged,
                               milliseconds: result.milliseconds, inode: current.inode))
    }

    /// What a pipeline error means for the job: a file libpng cannot read may still be
    /// arriving, a refusal is final, a write failure is as final as its errno.
    static func outcome(_ error: PipelineError) -> JobOutcome {
        switch error {
        case .undecodable(let e): .undecodable(e)
        case .refused(let e): .failed(SystemError(path: e.path, reason: e.reason))
        case .write(let e): e.policy == .permanent ? .failed(e) : .transient(e)
        }
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
