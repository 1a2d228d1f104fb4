// FileIO: the file access of ConvdImage: bounded whole-file reads and atomic writes
// (a temporary name in the target folder, fsync, rename), so no reader sees a partial file.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes whole files with POSIX calls, reporting errors as `ImageError`.
public enum FileIO {
    /// Reads `path` whole; a file larger than `limit` bytes is refused before it is read.
    public static func readAll(_ path: String, limit: Int = .max) throws(ImageError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError(path: path, reason: errnoReason("cannot open")) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ImageError(path: path, reason: errnoReason("cannot stat")) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ImageError(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw ImageError(path: path, reason: "file is \(size) bytes, over the limit of \(limit) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ImageError(path: path, reason: errnoReason("read failed")) }
            if n == 0 { break }  // the file shrank while we read it
            done += n
        }
        return done == size ? bytes : Array(bytes[0..<done])
    }

    /// Writes `bytes` to `path` atomically: `.<name>.convd-tmp-<pid>` in the same folder,
    /// fsync, rename over `path`. On failure the temporary file is removed.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(ImageError) {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = (slash == nil ? "" : folder + "/") + ".\(name).convd-tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw ImageError(path: path, reason: errnoReason("cannot create")) }
        var failure: String?
        var done = 0
        while done < bytes.count && failure == nil {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failure = errnoReason("write failed") } else { done += n }
        }
        if failure == nil && fsync(fd) != 0 { failure = errnoReason("fsync failed") }
        if close(fd) != 0 && failure == nil { failure = errnoReason("close failed") }
        if failure == nil && rename(temporary, path) != 0 { failure = errnoReason("rename failed") }
        if let failure {
            unlink(temporary)
            throw ImageError(path: path, reason: failure)
        }
    }

    /// Creates `path` and its missing parents (like `mkdir -p`).
    public static func makeDirectories(_ path: String) throws(ImageError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw ImageError(path: path, reason: errnoReason("cannot create folder"))
            }
            prefix += "/"
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ImageError(path: path, reason: "not a folder")
        }
    }

    static func errnoReason(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }
}

extension FileIO {
    /// Whether `path` names a regular file (following symlinks).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
