// Moving a file between trees: renameat, or across file systems a bounded, streaming copy
// (temporary name, fsync, rename) and then the unlink — never the whole file read into
// memory (a sparse 20 GB file aborted the daemon: audit #6).
#if canImport(Glibc)
import Glibc
#endif

extension Directory {
    /// Moves `name` to `newName` in `target`. Across file systems a file larger than `limit`
    /// bytes is not copied: that is a permanent failure for the caller to report.
    public func move(_ name: [UInt8], to target: Directory, as newName: [UInt8], limit: Int) throws(SystemError) {
        do {
            try rename(name, to: target, as: newName)
            return
        } catch where error.code == EXDEV {
            // Copied below.
        }
        let source = try openFile(name)
        guard source.size <= limit else {
            throw SystemError(path: source.path, reason: "cannot move to \(target.childPath(newName)): another file "
                              + "system, and the file is \(source.size) bytes, over the \(limit)-byte copy limit")
        }
        let (temporary, out) = try target.createTemporary()
        var failure: SystemError?
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var copied = 0
        while failure == nil && copied < source.size {
            let n = buffer.withUnsafeMutableBytes { read(source.fd, $0.baseAddress!, $0.count) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n < 0 { failure = .errno("read failed", path: source.path) }
            if n <= 0 { break }
            var written = 0
            while written < n && failure == nil {
                let w = buffer.withUnsafeBytes { Glibc.write(out, $0.baseAddress! + written, n - written) }
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { failure = .errno("write failed", path: target.childPath(newName)) } else { written += w }
            }
            copied += n
        }
        try target.finishTemporary(temporary, fd: out, as: newName, failure: failure)
        try unlink(name)
    }
}
