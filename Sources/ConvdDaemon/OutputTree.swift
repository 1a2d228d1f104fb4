// OutputTree: every write the daemon makes goes below a configured root (output, done_dir,
// failed_dir). Relative paths come from listings of the input tree and never hold `..`;
// each folder on the way is created or checked as a real folder (a symlink planted in an
// output tree is refused, not followed), and files are written under a temporary name,
// fsynced and renamed (FileIO.writeAtomically, O_NOFOLLOW).
import ConvdImage
import ConvdWatch
#if canImport(Glibc)
import Glibc
#endif

enum OutputTree {
    /// `root/relative`, created folder by folder below `root`; refuses `..` and symlinks.
    static func folder(root: String, relative: String) throws(DaemonError) -> String {
        var path = root
        for part in relative.split(separator: "/") where !part.isEmpty {
            guard part != "..", part != "." else { throw DaemonError("\(root)/\(relative): refusing a path with ..") }
            path += "/" + part
            if mkdir(path, 0o755) != 0 && errno != EEXIST {
                throw DaemonError("\(path): cannot create folder: \(errnoText())")
            }
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw DaemonError("\(path): not a folder (a symlink or file is in the way); refusing to write there")
            }
        }
        return path
    }

    /// The folder part of a relative path (`a/b/photo.png` → `a/b`).
    static func folderPart(_ relative: String) -> String {
        guard let slash = relative.lastIndex(of: "/") else { return "" }
        return String(relative[..<slash])
    }

    /// The name part of a relative path.
    static func namePart(_ relative: String) -> String {
        relative.split(separator: "/").last.map(String.init) ?? relative
    }

    /// Moves `source` to `root/relative` (creating folders); copies and removes across file
    /// systems. Returns the new path.
    @discardableResult
    static func move(_ source: String, toRoot root: String, relative: String) throws(DaemonError) -> String {
        let folder = try folder(root: root, relative: folderPart(relative))
        let target = folder + "/" + namePart(relative)
        if rename(source, target) == 0 { return target }
        guard errno == EXDEV else { throw DaemonError("\(source): cannot move to \(target): \(errnoText())") }
        do {
            try FileIO.writeAtomically(FileIO.readAll(source), to: target)
        } catch {
            throw DaemonError("\(source): cannot copy to \(target): \(error.reason)")
        }
        guard unlink(source) == 0 else { throw DaemonError("\(source): copied, but cannot remove: \(errnoText())") }
        return target
    }

    /// Writes `text` atomically to `path`.
    static func write(_ text: String, to path: String) throws(DaemonError) {
        do {
            try FileIO.writeAtomically(Array(text.utf8), to: path)
        } catch {
            throw DaemonError(error.description)
        }
    }

    /// Removes convd's temporary files (`.NAME.convd-tmp-PID`) left in a tree by a process
    /// that was killed mid-write; returns how many.
    static func sweepTemporaries(under root: String) -> Int {
        var removed = 0
        var stack = [root]
        while let folder = stack.popLast() {
            for entry in FolderListing(folder)?.entries ?? [] {
                let path = folder + "/" + entry.name
                if entry.kind == .folder {
                    stack.append(path)
                } else if entry.name.hasPrefix("."), entry.name.contains(".convd-tmp-"), unlink(path) == 0 {
                    removed += 1
                }
            }
        }
        return removed
    }
}
