// FileVersion: what makes "the same file" for exactly-once processing: size, mtime (ns) and
// inode. A file rewritten in place or replaced by rename is a new version.
#if canImport(Glibc)
import Glibc
#endif

/// One version of a file.
public struct FileVersion: Sendable, Equatable {
    public var size: Int64
    public var mtimeNs: Int64
    public var inode: Int64
    /// Whether the path itself is a symbolic link.
    public var isSymlink: Bool

    /// A version from its parts.
    public init(size: Int64, mtimeNs: Int64, inode: Int64, isSymlink: Bool = false) {
        self.size = size
        self.mtimeNs = mtimeNs
        self.inode = inode
        self.isSymlink = isSymlink
    }

    /// The version an fstat or fstatat gave.
    public init(stat info: stat) {
        self.init(size: Int64(info.st_size),
                  mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                  inode: Int64(bitPattern: UInt64(info.st_ino)), isSymlink: (info.st_mode & S_IFMT) == S_IFLNK)
    }

    /// The version of `path` (lstat: a symlink is described as itself); nil if it is gone or
    /// neither a regular file nor a symlink.
    public init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFLNK else { return nil }
        self.init(size: Int64(info.st_size),
                  mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                  inode: Int64(bitPattern: UInt64(info.st_ino)), isSymlink: kind == S_IFLNK)
    }

    /// mtime in seconds since the epoch.
    public var mtime: Double { Double(mtimeNs) / 1e9 }
}
