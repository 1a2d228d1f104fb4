// StagedFile: an output written under a temporary name and not yet durable. The daemon stages
// the outputs of several jobs and makes them durable as a group: either each one fsynced and
// renamed (`commit`), after `startWriteback` got all their writes under way at once, then the
// folders fsynced (`syncFolders`); or all renamed (`publish`), one syncfs per file system
// (`syncFileSystems`), and each file's own write-back checked (`confirm`). Until `commit` or
// `publish` the final name does not exist; `discard` removes the temporary file.
import CSystem
#if canImport(Glibc)
import Glibc
#endif

public final class StagedFile: @unchecked Sendable {
    /// The folder it goes into (kept open until the file is committed or discarded).
    public let folder: Directory
    /// The name it gets on commit.
    public let name: [UInt8]
    private let temporary: [UInt8]
    private var fd: Int32
    private var published = false

    /// Creates the temporary file in `folder` and writes `bytes` to it.
    public init(_ bytes: [UInt8], as name: [UInt8], in folder: Directory) throws(SystemError) {
        let (temporary, out) = try folder.createTemporary()
        self.folder = folder
        self.name = name
        self.temporary = temporary
        fd = out
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(out, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && Glibc.errno == EINTR { continue }
            if n <= 0 {
                let error = SystemError.errno("write failed", path: folder.childPath(name))
                discard()
                throw error
            }
            done += n
        }
    }

    deinit { discard() }

    /// The final path, for messages and the job's list of outputs.
    public var path: String { folder.childPath(name) }

    /// Starts writing the data to the device without waiting (sync_file_range), so that the
    /// `commit`s of a batch wait for writes already under way.
    public func startWriteback() {
        guard fd >= 0 else { return }
        _ = csystem_start_writeback(fd)
    }

    /// fsync, close and rename into place; on failure the temporary file is removed.
    public func commit() throws(SystemError) {
        guard fd >= 0, !published else { throw SystemError(path: path, reason: "already committed or discarded") }
        let out = fd
        fd = -1
        try folder.finishTemporary(temporary, fd: out, as: name, failure: nil)
    }

    /// Renames the file into place without an fsync, keeping it open: the caller makes the
    /// group durable with `syncFileSystems`, then `confirm`s each file.
    public func publish() throws(SystemError) {
        guard fd >= 0, !published else { throw SystemError(path: path, reason: "already committed or discarded") }
        let rc = temporary.withCString { from in name.withCString { to in renameat(folder.fd, from, folder.fd, to) } }
        if rc != 0 {
            let error = SystemError.errno("cannot create", path: path)
            discard()
            throw error
        }
        published = true
    }

    /// After `syncFileSystems`: whether this file's data reached the device. A write-back of
    /// it that failed since it was created (which syncfs may have reported to another caller,
    /// or not at all on kernels before 5.8) is reported here; then the file is closed.
    public func confirm() throws(SystemError) {
        guard fd >= 0, published else { throw SystemError(path: path, reason: "not published") }
        defer { discard() }
        if csystem_wait_writeback(fd) != 0 { throw .errno("write-back failed", path: path) }
    }

    /// syncfs(2) once for each file system that holds one of `folders`: every dirty page and
    /// inode there (the published files, their folder entries) is written and the device
    /// flushed. Throws the first failure, naming that folder.
    public static func syncFileSystems(_ folders: [Directory]) throws(SystemError) {
        try forEachDistinct(folders, by: { [UInt64($0.st_dev)] }) { folder throws(SystemError) in
            if csystem_sync_filesystem(folder.fd) != 0 { throw .errno("syncfs failed", path: folder.path) }
        }
    }

    /// fsync(2) once for each distinct folder of `folders`, so the renames in them are durable.
    public static func syncFolders(_ folders: [Directory]) throws(SystemError) {
        try forEachDistinct(folders, by: { [UInt64($0.st_dev), UInt64($0.st_ino)] }) { folder throws(SystemError) in
            if fsync(folder.fd) != 0 { throw .errno("fsync failed", path: folder.path) }
        }
    }

    /// `body` once for the first of `folders` with each distinct `key` of its fstat.
    private static func forEachDistinct(_ folders: [Directory], by key: (stat) -> [UInt64],
                                        _ body: (Directory) throws(SystemError) -> Void) throws(SystemError) {
        var done = Set<[UInt64]>()
        for folder in folders {
            var info = stat()
            guard fstat(folder.fd, &info) == 0 else { throw .errno("cannot stat", path: folder.path) }
            guard done.insert(key(info)).inserted else { continue }
            try body(folder)
        }
    }

    /// Closes the file; removes it when it still has its temporary name (nothing when already
    /// committed; a published file keeps its final name, which a retry overwrites).
    public func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        if !published { _ = temporary.withCString { unlinkat(folder.fd, $0, 0) } }
    }
}

extension Directory {
    /// Writes `bytes` as the file `name`, atomically: a fresh temporary name made with O_EXCL
    /// (nothing planted there is opened, audit #22), fsync, renameat over `name`. On failure
    /// the temporary file is removed.
    public func write(_ bytes: [UInt8], to name: [UInt8]) throws(SystemError) {
        try StagedFile(bytes, as: name, in: self).commit()
    }
}
