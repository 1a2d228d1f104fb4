// FolderListing: the entries of one folder by kind, without following symlinks unless asked.
// Used to walk trees (watchers) and to list files (the daemon's scans).
#if canImport(Glibc)
import Glibc
#endif

/// One folder's entries.
public struct FolderListing: Sendable {
    /// What an entry is.
    public enum Kind: Sendable, Equatable {
        case file, folder, symlink, other
    }

    /// (name, kind), sorted by name.
    public let entries: [(name: String, kind: Kind)]

    /// Lists `path`; nil (with errno set) when it cannot be opened.
    public init?(_ path: String, followSymlinks: Bool = false) {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var list: [(String, Kind)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var kind: Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .folder
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = Self.kind(of: path + "/" + name, follow: false)
            default: kind = .other
            }
            if kind == .symlink && followSymlinks { kind = Self.kind(of: path + "/" + name, follow: true) }
            list.append((name, kind))
        }
        entries = list.sorted { $0.0 < $1.0 }
    }

    /// The kind of `path` from lstat (or stat when following).
    public static func kind(of path: String, follow: Bool) -> Kind {
        var info = stat()
        guard (follow ? stat(path, &info) : lstat(path, &info)) == 0 else { return .other }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .folder
        case S_IFLNK: return .symlink
        default: return .other
        }
    }

    /// The folders of a tree, `root` first, parents before children, skipping ignored names.
    public static func folders(under root: String, recursive: Bool, filter: NameFilter, followSymlinks: Bool,
                               visit: (String) -> Bool) {
        var stack = [root]
        while let folder = stack.popLast() {
            guard visit(folder), recursive, let listing = FolderListing(folder, followSymlinks: followSymlinks) else {
                continue
            }
            for entry in listing.entries.reversed() where entry.kind == .folder && !filter.ignores(entry.name) {
                stack.append(folder + "/" + entry.name)
            }
        }
    }
}
