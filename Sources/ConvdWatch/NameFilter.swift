// NameFilter: which names a watch takes. Hidden and temporary names (`.*`, `*.tmp`, `*.part`,
// `*.crdownload`, `*~`, `Thumbs.db`, `desktop.ini`, `@eaDir`) are ignored, so writers may
// write under a temporary name and rename; convd's own temporary files start with a dot.
#if canImport(Glibc)
import Glibc
#endif

/// fnmatch's GNU caseFold flag (not imported: it needs _GNU_SOURCE).
private let caseFold: Int32 = 1 << 4

/// Ignore patterns plus the file pattern of a watch (fnmatch, case-insensitive).
public struct NameFilter: Sendable, Equatable {
    /// Names ignored in every watch: files and folders.
    public static let builtinIgnored = [".*", "*.tmp", "*.part", "*.crdownload", "*~", "Thumbs.db",
                                        "desktop.ini", "@eaDir"]

    /// The file pattern, such as `*.png`.
    public var pattern: String
    /// Every ignore pattern, built-in ones first.
    public var ignored: [String]

    /// A filter taking files that match `pattern`, ignoring the built-in names and `extra`.
    public init(pattern: String = "*.png", extraIgnored: [String] = []) {
        self.pattern = pattern
        self.ignored = Self.builtinIgnored + extraIgnored
    }

    /// Whether a file or folder named `name` is ignored.
    public func ignores(_ name: String) -> Bool {
        ignored.contains { fnmatch($0, name, caseFold) == 0 }
    }

    /// Whether a file named `name` is one to process.
    public func accepts(file name: String) -> Bool {
        !ignores(name) && fnmatch(pattern, name, caseFold) == 0
    }
}
