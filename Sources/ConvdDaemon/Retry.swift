// Retry: `convd retry PATH...` — forget the finished versions of a file so it is processed
// again. A file in a failed_dir is moved back to its place in the input tree first (its
// `.error.txt` is removed). The job goes into the ledger, where a running daemon finds it
// within a second; without a daemon, the next start (or `run --oneshot`) runs it.
import ConvdConfig
import ConvdSystem
#if canImport(Glibc)
import Glibc
#endif

public enum Retry {
    /// Queues `path` again; returns a line saying what was done.
    public static func retry(_ path: String, config: DaemonConfig, ledger: any Ledger) throws(DaemonError) -> String {
        let absolute = PathText.absolute(path, base: PathText.currentDirectory())
        var found: (watch: WatchSettings, relative: String, inFailed: Bool)?
        for w in config.watches {
            if let failed = w.failedDir, let relative = relativeKey(absolute, below: failed) {
                found = (w, relative, true)
                break
            }
            if let relative = relativeKey(absolute, below: w.input) {
                found = (w, relative, false)
                break
            }
        }
        guard let (watch, key, inFailed) = found, let relative = RelativePath(key: key) else {
            throw DaemonError("\(absolute): not in the input tree or failed_dir of any watch in \(config.file)")
        }
        let input = watch.input + "/" + key
        let source = inFailed ? watch.failedDir! : watch.input
        // Taken before the move (a rename keeps size, mtime and inode): a running daemon may
        // process the file and set it aside again before this process looks at it.
        guard let folder = try? OutputTree.folder(root: source, relative, create: false),
              let info = folder.status(relative.name) else { throw DaemonError("\(source)/\(key): no such file") }
        let version = FileVersion(stat: info)
        let errorName = relative.name + Array(".error.txt".utf8)
        do {
            // Forget first: a daemon seeing a finished version come back would set it aside again.
            let forgotten = try ledger.forget(watch: watch.name, path: key)
            if inFailed {
                try OutputTree.move(relative, from: source, expected: .inode(version.inode), toRoot: watch.input, limit: .max)
                try? folder.unlink(errorName)
            }
            _ = try ledger.record([Discovery(watch: watch.name, path: key, version: version, moved: true,
                                             readyAt: wallClock())])
            try? OutputTree.folder(root: watch.output, relative, create: false).unlink(errorName)
            return "\(input): queued in watch \"\(watch.name)\"" + (forgotten > 0 ? " (earlier result forgotten)" : "")
        } catch let error as SystemError {
            throw DaemonError(error.description)
        } catch {
            throw DaemonError("ledger: \(error)")
        }
    }

    /// The key of `path` relative to `root` (cut as bytes), when it is strictly below it.
    static func relativeKey(_ path: String, below root: String) -> String? {
        let p = Array(path.utf8), r = Array(root.utf8)
        guard p.count > r.count + 1, p.starts(with: r), p[r.count] == 0x2F else { return nil }
        return PathKey.key(p[(r.count + 1)...])
    }
}
