// ChainSpec: a chain as a user names it, inline text or a `.chain` file, with the name its
// outputs carry. A `.chain` file holds one chain; `#` starts a comment and lines are joined
// with spaces, so long chains may be split over lines.
import ConvdCore
import ConvdSystem

/// A parsed chain and its name.
public struct ChainSpec: Sendable {
    /// The name in output file names.
    public let name: String
    /// The parsed chain.
    public let chain: FilterChain

    /// Loads `spec`: a path to an existing file (or any text ending in `.chain`) is read as a chain
    /// file named after its stem; anything else is parsed as inline chain text named `chain`.
    /// `name`, when given, overrides the name.
    public static func load(_ spec: String, name: String? = nil) throws -> ChainSpec {
        if spec.hasSuffix(".chain") || (!spec.contains("|") && !spec.contains("(") && FileIO.isRegularFile(spec)) {
            let bytes: [UInt8]
            do {
                bytes = try FileIO.readAll(spec, limit: 1 << 20)
            } catch {
                throw ImageError(path: spec, reason: error.reason)
            }
            let text = String(decoding: bytes, as: UTF8.self)
                .split(separator: "\n", omittingEmptySubsequences: false)
                .map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .joined(separator: " ")
            do {
                return ChainSpec(name: name ?? FilterJob.stem(of: spec), chain: try FilterChain(parsing: text))
            } catch {
                throw ImageError(path: spec, reason: error.description)
            }
        }
        return ChainSpec(name: name ?? "chain", chain: try FilterChain(parsing: spec))
    }

    /// Names are used in file names: letters, digits, `_` and `-` only.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    init(name: String, chain: FilterChain) {
        self.name = name
        self.chain = chain
    }
}
