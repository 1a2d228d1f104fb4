// PathText: path arithmetic on strings — absolute paths, lexical normalisation (no `.`/`..`,
// no doubled slashes) and containment — so overlap checks compare like with like.
#if canImport(Glibc)
import Glibc
#endif

/// Lexical path helpers.
public enum PathText {
    /// The working directory, or `/` if it cannot be read.
    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` made absolute against `base` and normalised.
    public static func absolute(_ path: String, base: String) -> String {
        normalise(path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// Removes `.`, resolves `..` lexically and drops doubled and trailing slashes.
    public static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder holding `path` (`/` for top-level names).
    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// Whether `inner` is `outer` or lies below it (both normalised and absolute).
    public static func isWithin(_ inner: String, _ outer: String) -> Bool {
        inner == outer || outer == "/" || inner.hasPrefix(outer + "/")
    }
}
