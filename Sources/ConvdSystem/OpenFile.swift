// OpenFile: a regular file opened by Directory.openFile, read through the descriptor whose
// type, inode and size were checked — never reopened by name.
#if canImport(Glibc)
import Glibc
#endif

public struct OpenFile: ~Copyable {
    public let fd: Int32
    /// fstat of the descriptor at open time.
    public let info: stat
    /// The file's path as text, for messages.
    public let path: String

    init(fd: Int32, info: stat, path: String) {
        self.fd = fd
        self.info = info
        self.path = path
    }

    deinit { close(fd) }

    /// Size in bytes at open time.
    public var size: Int { Int(info.st_size) }
    public var inode: UInt64 { UInt64(info.st_ino) }
    public var device: UInt64 { UInt64(info.st_dev) }
    public var mtimeNs: Int64 { Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec) }

    /// The whole file; one larger than `limit` bytes is refused before it is read.
    public func readAll(limit: Int = .max) throws(SystemError) -> [UInt8] {
        guard size <= limit else {
            throw SystemError(path: path, reason: "file is \(size) bytes, over the limit of \(limit) bytes")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n >= 0 else { throw .errno("read failed", path: path) }
            if n == 0 { break }  // the file shrank while we read it
            done += n
        }
        return done == size ? bytes : Array(bytes[0..<done])
    }
}
