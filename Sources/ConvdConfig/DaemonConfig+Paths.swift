// The file-system side of a config: folders that would feed a watch its own outputs (a loop),
// watches whose inputs overlap, and folders that are missing (created when their parent
// exists, else an error).
import ConvdImage
#if canImport(Glibc)
import Glibc
#endif

extension DaemonConfig {
    /// Outputs inside inputs and overlapping inputs.
    func checkOverlaps(_ issues: inout [ConfigIssue]) {
        for (i, w) in watches.enumerated() where !w.input.isEmpty {
            let path = "watch[\(i + 1)]"
            let targets = [("output", w.output), ("done_dir", w.doneDir), ("failed_dir", w.failedDir)]
            for case let (key, target?) in targets where !target.isEmpty {
                let loops = target == w.input || (w.recursive && PathText.isWithin(target, w.input))
                if loops {
                    issues.append(ConfigIssue("\(path).\(key)", "\(target) is inside the input tree \(w.input): "
                                              + "convd would process its own results; move it outside"))
                }
            }
            for (j, other) in watches.enumerated() where j > i && !other.input.isEmpty {
                if PathText.isWithin(w.input, other.input) || PathText.isWithin(other.input, w.input) {
                    issues.append(ConfigIssue("\(path).input", "\(w.input) overlaps the input \(other.input) "
                                              + "of watch[\(j + 1)] \"\(other.name)\"; give each watch its own tree"))
                }
            }
        }
    }

    /// The folders the daemon needs, with the key that names each.
    public var folders: [(key: String, path: String)] {
        var list: [(String, String)] = [("daemon.state_dir", daemon.stateDir),
                                         ("daemon.classification_log", PathText.folder(of: daemon.classificationLog)),
                                         ("daemon.status_file", PathText.folder(of: daemon.statusFile))]
        for (i, w) in watches.enumerated() {
            let path = "watch[\(i + 1)]"
            list.append(("\(path).input", w.input))
            list.append(("\(path).output", w.output))
            if let d = w.doneDir { list.append(("\(path).done_dir", d)) }
            if let f = w.failedDir { list.append(("\(path).failed_dir", f)) }
        }
        return list
    }

    /// Checks that every folder exists or can be made: a missing folder whose parent exists
    /// is created when `create` is true (and listed in the result); one whose parent is
    /// missing, or a path that is not a folder, is an error.
    @discardableResult
    public func checkFolders(create: Bool) throws(ConfigError) -> [String] {
        var issues: [ConfigIssue] = []
        var made: [String] = []
        for (key, path) in folders {
            var info = stat()
            if stat(path, &info) == 0 {
                if (info.st_mode & S_IFMT) != S_IFDIR { issues.append(ConfigIssue(key, "\(path) is not a folder")) }
                continue
            }
            let parent = PathText.folder(of: path)
            var parentInfo = stat()
            guard stat(parent, &parentInfo) == 0, (parentInfo.st_mode & S_IFMT) == S_IFDIR else {
                issues.append(ConfigIssue(key, "\(path) is missing and so is its parent \(parent); create it first"))
                continue
            }
            guard !made.contains(path) else { continue }
            if create {
                if mkdir(path, 0o755) != 0 && errno != EEXIST {
                    issues.append(ConfigIssue(key, "cannot create \(path): \(String(cString: strerror(errno)))"))
                    continue
                }
            }
            made.append(path)
        }
        checkResolvedOverlaps(&issues)
        guard issues.isEmpty else { throw ConfigError(file: file, issues: issues) }
        return made
    }

    /// The same loop check as `checkOverlaps`, on the folders as they resolve on disk: an
    /// output, done or failed folder reached through a symlink into the input tree would feed
    /// the watch its own results (audit #25).
    func checkResolvedOverlaps(_ issues: inout [ConfigIssue]) {
        for (i, w) in watches.enumerated() where !w.input.isEmpty {
            guard let input = Self.resolved(w.input) else { continue }
            let targets = [("output", w.output), ("done_dir", w.doneDir), ("failed_dir", w.failedDir)]
            for case let (key, target?) in targets where !target.isEmpty && !PathText.isWithin(target, w.input) {
                guard let real = Self.resolved(target) else { continue }
                if real == input || (w.recursive && PathText.isWithin(real, input)) {
                    issues.append(ConfigIssue("watch[\(i + 1)].\(key)", "\(target) resolves to \(real), inside the input "
                                              + "tree \(input): convd would process its own results; move it outside"))
                }
            }
        }
    }

    /// realpath(3) of an existing path.
    static func resolved(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }
}
