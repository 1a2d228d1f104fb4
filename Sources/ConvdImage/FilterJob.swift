// FilterJob: one input through a chain to its output files: read (size-limited), decode,
// shape-check, apply, write atomically. Used by `convd filter` and, later, the daemon.
import ConvdCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A chain, its outputs and decode options, ready to run on files.
public struct FilterJob: Sendable {
    /// The chain to run.
    public var chain: FilterChain
    /// How the maps are written.
    public var output: FeatureMapOutput
    /// Scaling, background and limits for decoding.
    public var options: DecodeOptions
    /// Threads for the convolutions.
    public var threads: Int

    /// A job.
    public init(chain: FilterChain, output: FeatureMapOutput, options: DecodeOptions = DecodeOptions(),
                threads: Int = 1) {
        self.chain = chain
        self.output = output
        self.options = options
        self.threads = threads
    }

    /// `a/b/photo.png` → `photo`: the file name without folder and last extension.
    public static func stem(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// Runs the chain on `input` and writes its outputs into `folder`; returns the paths written.
    public func run(input: String, into folder: String) throws(ImageError) -> [String] {
        let image = try PNGCodec.decodeFile(input, options: options)
        let maps: Tensor
        do {
            maps = try chain.apply(image, threads: threads)
        } catch {
            throw ImageError(path: input, reason: error.description)
        }
        return try output.write(maps, stem: Self.stem(of: input), into: folder)
    }
}
