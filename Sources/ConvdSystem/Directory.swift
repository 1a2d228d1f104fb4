// Directory: an open folder, and every file operation convd makes relative to it. A watch's
// input, output, done and failed trees are opened at their root (the operator's path) and
// below that one component at a time with O_NOFOLLOW, so no symlink or rename planted in a
// tree can lead a read, a move, a delete or a write outside it (audit #1, #18). Names are bytes.
#if canImport(Glibc)
import Glibc
#endif

public final class Directory: @unchecked Sendable {
    /// The open descriptor (O_DIRECTORY), closed with the object.
    public let fd: Int32
    /// The folder's path as text, for messages.
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Opens a root folder named by the operator (symlinks on the way are the operator's).
    public static func open(_ path: String) throws(SystemError) -> Directory {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .errno("cannot open folder", path: path) }
        return Directory(fd: fd, path: path)
    }

    /// The subfolder `name`, never through a symlink; created (0755) first when `create`.
    public func subfolder(_ name: [UInt8], create: Bool = false) throws(SystemError) -> Directory {
        let child = childPath(name)
        guard Self.isPlainName(name) else { throw SystemError(path: child, reason: "refusing a path with . or ..") }
        if create {
            let made = name.withCString { mkdirat(fd, $0, 0o755) }
            if made != 0 && Glibc.errno != EEXIST { throw .errno("cannot create folder", path: child) }
        }
        let sub = name.withCString { Glibc.openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard sub >= 0 else {
            // ELOOP or ENOTDIR: a symlink or a file where a folder should be.
            if Glibc.errno == ELOOP || Glibc.errno == ENOTDIR {
                throw SystemError(path: child, reason: "not a folder (a symlink or file is in the way); refusing to go through it")
            }
            throw .errno("cannot open folder", path: child)
        }
        return Directory(fd: sub, path: child)
    }

    /// The folder `components` below this one (each opened as by `subfolder`).
    public func descend(_ components: [[UInt8]], create: Bool = false) throws(SystemError) -> Directory {
        var folder = self
        for part in components { folder = try folder.subfolder(part, create: create) }
        return folder
    }

    /// fstatat: `name` itself (a symlink as a symlink) or, with `follow`, what it points to.
    public func status(_ name: [UInt8], follow: Bool = false) -> stat? {
        var info = stat()
        let rc = name.withCString { fstatat(fd, $0, &info, follow ? 0 : AT_SYMLINK_NOFOLLOW) }
        return rc == 0 ? info : nil
    }

    /// Opens the regular file `name` for reading. Without `follow`, a symlink is refused
    /// (O_NOFOLLOW); with it, the link may point anywhere but must end at a regular file. The
    /// open never blocks (O_NONBLOCK: a FIFO cannot hang a worker, audit #11) and the type is
    /// checked on the descriptor, so a swap after a check cannot substitute another file.
    public func openFile(_ name: [UInt8], follow: Bool = false) throws(SystemError) -> OpenFile {
        let child = childPath(name)
        guard Self.isPlainName(name) else { throw SystemError(path: child, reason: "refusing a path with . or ..") }
        let flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)
        let fd = name.withCString { Glibc.openat(self.fd, $0, flags) }
        guard fd >= 0 else {
            if Glibc.errno == ELOOP && !follow {
                throw SystemError(path: child, reason: "is a symbolic link; links are not followed unless the watch sets follow_symlinks = true")
            }
            throw .errno("cannot open", path: child)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = SystemError.errno("cannot stat", path: child)
            close(fd)
            throw error
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw SystemError(path: child, reason: "not a regular file (\(Self.kindName(info.st_mode)))")
        }
        return OpenFile(fd: fd, info: info, path: child)
    }

    /// One entry of a listing.
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case file, folder, symlink, other }
        public var name: [UInt8]
        public var kind: Kind
        public init(name: [UInt8], kind: Kind) {
            self.name = name
            self.kind = kind
        }
    }

    /// The folder's entries (not `.` and `..`), sorted by name bytes; nil when it cannot be read.
    public func entries() -> [Entry]? {
        let copy = dup(fd)
        guard copy >= 0 else { return nil }
        guard let dir = fdopendir(copy) else {
            close(copy)
            return nil
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var list: [Entry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            var kind: Entry.Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .folder
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = status(name).map { Self.kind($0.st_mode) } ?? .other
            default: kind = .other
            }
            list.append(Entry(name: name, kind: kind))
        }
        return list.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    /// Removes the file `name` (not a folder).
    public func unlink(_ name: [UInt8]) throws(SystemError) {
        let rc = name.withCString { unlinkat(fd, $0, 0) }
        guard rc == 0 || Glibc.errno == ENOENT else { throw .errno("cannot delete", path: childPath(name)) }
    }

    /// Renames `name` to `newName` in `target` (replacing a file there); EXDEV is thrown for
    /// the caller, which may copy instead.
    public func rename(_ name: [UInt8], to target: Directory, as newName: [UInt8]) throws(SystemError) {
        let rc = name.withCString { from in newName.withCString { to in renameat(fd, from, target.fd, to) } }
        guard rc == 0 else { throw .errno("cannot move to \(target.childPath(newName))", path: childPath(name)) }
    }

    /// Creates `.convd-tmp-PID-RANDOM` exclusively; returns its name and descriptor.
    func createTemporary() throws(SystemError) -> ([UInt8], Int32) {
        for _ in 0..<16 {
            let name = Array(".\(Self.temporaryMarker)\(getpid())-\(UInt64.random(in: 0...UInt64.max))".utf8)
            let out = name.withCString {
                Glibc.openat(fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            }
            if out >= 0 { return (name, out) }
            if Glibc.errno != EEXIST { throw .errno("cannot create", path: childPath(name)) }
        }
        throw SystemError(path: path, reason: "cannot create a temporary file")
    }

    /// fsync, close and rename the temporary file into place, or remove it after `failure`.
    func finishTemporary(_ temporary: [UInt8], fd out: Int32, as name: [UInt8], failure: SystemError?) throws(SystemError) {
        var failure = failure
        if failure == nil && fsync(out) != 0 { failure = .errno("fsync failed", path: childPath(name)) }
        if close(out) != 0 && failure == nil { failure = .errno("close failed", path: childPath(name)) }
        if failure == nil {
            let rc = temporary.withCString { from in name.withCString { to in renameat(fd, from, fd, to) } }
            if rc != 0 { failure = .errno("cannot create", path: childPath(name)) }
        }
        if let failure {
            _ = temporary.withCString { unlinkat(fd, $0, 0) }
            throw failure
        }
    }

    /// Temporary files hold this in their name (`.convd-tmp-…`): swept at start.
    public static let temporaryMarker = "convd-tmp-"

    /// `path/name` for messages (the name as a PathKey).
    public func childPath(_ name: [UInt8]) -> String { path + "/" + PathKey.key(name) }

    /// A name that is one real entry: not empty, `.`, `..`, and without `/` or NUL.
    public static func isPlainName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name != [0x2E] && name != [0x2E, 0x2E] && !name.contains(0x2F) && !name.contains(0)
    }

    static func kind(_ mode: mode_t) -> Entry.Kind {
        switch mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .folder
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "not a file"
        }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with the bytes as a NUL-terminated C string.
    func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (self + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}
