// FileVersion: what makes "the same file" for exactly-once processing: size, mtime (ns) and
// inode. A file rewritten in place or replaced by rename is a new version. Versions come from
// fstat/fstatat on descriptors reached from a watch root (Directory), never from a path.
#if canImport(Glibc)
import Glibc
#endif

/// One version of a file.
public struct FileVersion: Sendable, Equatable {
    public var size: Int64
    public var mtimeNs: Int64
    public var inode: Int64

    /// A version from its parts.
    public init(size: Int64, mtimeNs: Int64, inode: Int64) {
        self.size = size
        self.mtimeNs = mtimeNs
        self.inode = inode
    }

    /// The version an fstat or fstatat gave.
    public init(stat info: stat) {
        self.init(size: Int64(info.st_size),
                  mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                  inode: Int64(bitPattern: UInt64(info.st_ino)))
    }

    /// mtime in seconds since the epoch.
    public var mtime: Double { Double(mtimeNs) / 1e9 }
}
