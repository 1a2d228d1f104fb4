// FileIO: whole-file access by path for the operator's own files (configs, models, datasets,
// the status file) and the command line's inputs and outputs: bounded reads through the
// checked descriptor and atomic writes (Directory.write). The daemon's watch trees never go
// through here: they are opened relative to their root (Directory).
#if canImport(Glibc)
import Glibc
#endif

public enum FileIO {
    /// Reads `path` whole; a file larger than `limit` bytes is refused before it is read, and
    /// anything but a regular file (a folder, a FIFO) is refused without blocking.
    public static func readAll(_ path: String, limit: Int = .max) throws(SystemError) -> [UInt8] {
        let (folder, name) = split(path)
        let directory = try Directory.open(folder)
        return try directory.openFile(name, follow: true).readAll(limit: limit)
    }

    /// Writes `bytes` to `path` atomically (temporary name, fsync, rename).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(SystemError) {
        let (folder, name) = split(path)
        try Directory.open(folder).write(bytes, to: name)
    }

    /// Creates `path` and its missing parents (like `mkdir -p`).
    public static func makeDirectories(_ path: String) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw .errno("cannot create folder", path: path) }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SystemError(path: path, reason: "not a folder")
        }
    }

    /// Whether `path` names a regular file (following symlinks).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// `a/b/c.png` → ("a/b", "c.png"); `c.png` → (".", "c.png"); `/c.png` → ("/", "c.png").
    static func split(_ path: String) -> (String, [UInt8]) {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: 0x2F) else { return (".", bytes) }
        let folder = slash == 0 ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
        return (folder, Array(bytes[(slash + 1)...]))
    }
}
