// ChainSpec: a chain as a user names it, inline text or a `.chain` file, with the name its
// outputs carry. A `.chain` file holds one chain; `#` starts a comment and lines are joined
// with spaces, so long chains may be split over lines.
import ConvdCore
import ConvdSystem

/// A parsed chain and its name.
public struct ChainSpec: Sendable, Equatable {
    /// The name in output file names.
    public let name: String
    /// The parsed chain.
    public let chain: FilterChain

    /// Loads `spec`: a path to an existing file (or any text ending in `.chain`) is read as a chain
    /// file named after its stem; anything else is parsed as inline chain text named `chain`.
    /// `name`, when given, overrides the name. A relative path is taken relative to `base`
    /// (a config file's folder) when it is given, else to the working folder.
    public static func load(_ spec: String, name: String? = nil, base: String? = nil) throws -> ChainSpec {
        let file = base.map { spec.hasPrefix("/") ? spec : $0 + "/" + spec } ?? spec
        if spec.hasSuffix(".chain") || (!spec.contains("|") && !spec.contains("(") && FileIO.isRegularFile(file)) {
            let bytes: [UInt8]
            do {
                bytes = try FileIO.readAll(file, limit: 1 << 20)
            } catch {
                throw ImageError(path: file, reason: error.reason)
            }
            let text = String(decoding: bytes, as: UTF8.self)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .joined(separator: " ")
            do {
                return ChainSpec(name: name ?? stem(ofPath: spec), chain: try FilterChain(parsing: text))
            } catch {
                throw ImageError(path: file, reason: error.description)
            }
        }
        return ChainSpec(name: name ?? "chain", chain: try FilterChain(parsing: spec))
    }

    /// Names are used in file names: letters, digits, `_` and `-` only.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// `a/b/edges.chain` → `edges`: the file name without its folder and last extension.
    static func stem(ofPath path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    init(name: String, chain: FilterChain) {
        self.name = name
        self.chain = chain
    }
}
