// Retry: `convd retry PATH...` — forget the finished versions of a file so it is processed
// again. A file in a failed_dir is moved back to its place in the input tree first (its
// `.error.txt` is removed). The job goes into the ledger, where a running daemon finds it
// within a second; without a daemon, the next start (or `run --oneshot`) runs it.
import ConvdConfig
#if canImport(Glibc)
import Glibc
#endif

public enum Retry {
    /// Queues `path` again; returns a line saying what was done.
    public static func retry(_ path: String, config: DaemonConfig, ledger: Ledger) throws(DaemonError) -> String {
        let absolute = PathText.absolute(path, base: PathText.currentDirectory())
        var found: (watch: WatchSettings, relative: String, failedCopy: String?)?
        for w in config.watches {
            if let failed = w.failedDir, PathText.isWithin(absolute, failed), absolute != failed {
                found = (w, String(absolute.dropFirst(failed.count + 1)), absolute)
                break
            }
            if PathText.isWithin(absolute, w.input), absolute != w.input {
                found = (w, String(absolute.dropFirst(w.input.count + 1)), nil)
                break
            }
        }
        guard let (watch, relative, failedCopy) = found else {
            throw DaemonError("\(absolute): not in the input tree or failed_dir of any watch in \(config.file)")
        }
        let input = watch.input + "/" + relative
        // Taken before the move (a rename keeps size, mtime and inode): a running daemon may
        // process the file and set it aside again before this process looks at it.
        guard let version = FileVersion(path: failedCopy ?? input) else { throw DaemonError("\(failedCopy ?? input): no such file") }
        do {
            // Forget first: a daemon seeing a finished version come back would set it aside again.
            let forgotten = try ledger.forget(watch: watch.name, path: relative)
            if let failedCopy {
                try OutputTree.move(failedCopy, toRoot: watch.input, relative: relative)
                unlink(failedCopy + ".error.txt")
            }
            _ = try ledger.record([Discovery(watch: watch.name, path: relative, version: version, moved: true,
                                             readyAt: wallClock())])
            unlink(watch.output + "/" + relative + ".error.txt")
            return "\(input): queued in watch \"\(watch.name)\"" + (forgotten > 0 ? " (earlier result forgotten)" : "")
        } catch let error as DaemonError {
            throw error
        } catch {
            throw DaemonError("ledger: \(error)")
        }
    }
}
