// OutputTree: a job's path inside the daemon's trees. The relative path is a PathKey from a
// listing of the input tree, split into byte components here; every tree (input, output,
// done_dir, failed_dir) is opened at its root and walked one component at a time without
// following symlinks (Directory), so a symlink or rename planted in any of them cannot lead a
// read, move, delete or write outside the roots.
import ConvdPipeline
import ConvdSystem
#if canImport(Glibc)
import Glibc
#endif

/// A relative path as byte components: folders, then the file name.
struct RelativePath: Sendable, Equatable {
    let folders: [[UInt8]]
    let name: [UInt8]
    /// The key it came from (ledger and logs).
    let key: String

    /// The components of `key`; nil when the key names no plain relative path.
    init?(key: String) {
        guard let bytes = PathKey.bytes(of: key) else { return nil }
        let parts = bytes.split(separator: 0x2F, omittingEmptySubsequences: false).map(Array.init)
        guard let last = parts.last, parts.allSatisfy(Directory.isPlainName) else { return nil }
        folders = Array(parts.dropLast())
        name = last
        self.key = key
    }

    /// The file name's stem for output names: the name without `.png` when it ends in exactly
    /// that, else the whole name, so `a.png` and `a.PNG` get distinct outputs (audit #16).
    var stem: [UInt8] { ImagePipeline.stem(ofName: name) }
}

enum OutputTree {
    /// The folder of `path` below `root`, created folder by folder when `create`.
    static func folder(root: String, _ path: RelativePath, create: Bool) throws(SystemError) -> Directory {
        try Directory.open(root).descend(path.folders, create: create)
    }

    /// Writes `text` atomically as `name` in `folder`.
    static func write(_ text: String, to name: [UInt8], in folder: Directory) throws(SystemError) {
        try folder.write(Array(text.utf8), to: name)
    }

    /// What an input entry must still be for an after-action to touch it: the inode this host
    /// read, or — a version that another host of a fleet listed, whose inode number means
    /// nothing here — its size and mtime.
    enum Expected {
        case inode(Int64)
        case sizeAndMtime(FileVersion)

        /// Whether the entry `info` describes is still that version.
        func matches(_ info: stat) -> Bool {
            let found = FileVersion(stat: info)
            switch self {
            case .inode(let inode): return found.inode == inode
            case .sizeAndMtime(let version): return found.size == version.size && found.mtimeNs == version.mtimeNs
            }
        }
    }

    /// Moves the input `path` (below `input`) to the same place below `root`, if the entry is
    /// still the version the job processed (a newer version is left for its own job). Returns
    /// the folder it went to.
    @discardableResult
    static func move(_ path: RelativePath, from input: String, expected: Expected, toRoot root: String,
                     limit: Int) throws(SystemError) -> Directory {
        let source = try folder(root: input, path, create: false)
        if let info = source.status(path.name), !expected.matches(info) {
            throw SystemError(path: source.childPath(path.name), reason: "replaced by a newer version; left in place")
        }
        let target = try folder(root: root, path, create: true)
        try source.move(path.name, to: target, as: path.name, limit: limit)
        return target
    }

    /// Deletes the input `path`, if it is still the version the job processed.
    static func delete(_ path: RelativePath, from input: String, expected: Expected) throws(SystemError) {
        let source = try folder(root: input, path, create: false)
        if let info = source.status(path.name), !expected.matches(info) { return }
        try source.unlink(path.name)
    }

    /// Removes convd's temporary files (`.convd-tmp-…`, and the `.NAME.convd-tmp-PID` of
    /// earlier versions) left in a tree by a process killed mid-write, when their mtime is at
    /// least `olderThan` seconds old (another node of a fleet may be writing the newer ones);
    /// returns how many.
    static func sweepTemporaries(under root: String, olderThan: Double = 0) -> Int {
        guard let top = try? Directory.open(root) else { return 0 }
        var removed = 0
        var stack = [top]
        let marker = Array(Directory.temporaryMarker.utf8)
        while let folder = stack.popLast() {
            for entry in folder.entries() ?? [] {
                if entry.kind == .folder {
                    if let sub = try? folder.subfolder(entry.name) { stack.append(sub) }
                } else if entry.name.first == 0x2E, entry.name.contains(marker),
                          olderThan <= 0 || folder.status(entry.name).map({ wallClock() - FileVersion(stat: $0).mtime >= olderThan }) ?? false,
                          (try? folder.unlink(entry.name)) != nil {
                    removed += 1
                }
            }
        }
        return removed
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in the bytes.
    func contains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
