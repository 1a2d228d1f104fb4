// FeatureMapOutput: writes the results of a chain for one input, named as DESIGN.md §3 says:
// `<stem>.<chain>.fm00.png` per map (8-bit, or 16-bit with png16), `<stem>.<chain>.montage.png`
// and `<stem>.<chain>.npy` (exact float32 values, C×H×W). Each file is written atomically.
import ConvdCore
import ConvdSystem

/// The files a chain's maps can be written as.
public struct OutputFormats: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// One 8-bit PNG per map.
    public static let png = OutputFormats(rawValue: 1)
    /// One 16-bit PNG per map.
    public static let png16 = OutputFormats(rawValue: 2)
    /// All maps as one float32 `.npy`.
    public static let npy = OutputFormats(rawValue: 4)
    /// All maps in one grid PNG.
    public static let montage = OutputFormats(rawValue: 8)

    /// The names accepted by `--format` and the config's `formats`.
    public static let names: [(String, OutputFormats)] = [("png", .png), ("png16", .png16), ("npy", .npy),
                                                           ("montage", .montage)]

    /// Parses a comma-separated list such as `png,npy`; nil with a reason when it is invalid.
    public static func parse(_ list: String) -> Result<OutputFormats, FormatListError> {
        var formats: OutputFormats = []
        for word in list.split(separator: ",").map({ String($0).lowercased() }) where !word.isEmpty {
            guard let format = names.first(where: { $0.0 == word })?.1 else {
                return .failure(FormatListError(message: "unknown format \"\(word)\" (formats: "
                                                + names.map(\.0).joined(separator: ", ") + ")"))
            }
            formats.insert(format)
        }
        guard !formats.isEmpty else { return .failure(FormatListError(message: "no output format given")) }
        guard !formats.contains([.png, .png16]) else {
            return .failure(FormatListError(message: "png and png16 both name the maps <stem>.<chain>.fmNN.png; "
                                            + "choose one"))
        }
        return .success(formats)
    }
}

/// Why a `--format` list is invalid.
public struct FormatListError: Error, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    /// An error saying `message`.
    public init(message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// Writes the feature maps of one input in the chosen formats.
public struct FeatureMapOutput: Sendable {
    /// The chain's name in file names.
    public var chainName: String
    /// Which files to write.
    public var formats: OutputFormats
    /// Normalisation and zlib level of the PNGs.
    public var renderer: FeatureMapRenderer

    /// An output writer.
    public init(chainName: String, formats: OutputFormats, renderer: FeatureMapRenderer = FeatureMapRenderer()) {
        self.chainName = chainName
        self.formats = formats
        self.renderer = renderer
    }

    /// The file names (no folder) written for input stem `stem` and `mapCount` maps, in order.
    public func fileNames(stem: String, mapCount: Int) -> [String] {
        let prefix = "\(stem).\(chainName)"
        var names: [String] = []
        if !formats.isDisjoint(with: [.png, .png16]) {
            let digits = max(2, String(max(mapCount - 1, 0)).count)
            for i in 0..<mapCount {
                let index = String(i)
                names.append("\(prefix).fm\(String(repeating: "0", count: digits - index.count))\(index).png")
            }
        }
        if formats.contains(.montage) { names.append("\(prefix).montage.png") }
        if formats.contains(.npy) { names.append("\(prefix).npy") }
        return names
    }

    /// File `index` (in `fileNames` order) for `maps`, encoded. Files are made one at a time,
    /// so that a job holds at most one of them besides the maps.
    public func file(_ index: Int, of maps: Tensor) throws(ImageError) -> [UInt8] {
        let perMap = formats.isDisjoint(with: [.png, .png16]) ? 0 : maps.channels
        if index < perMap {
            return try formats.contains(.png16) ? renderer.png16(maps, channel: index) : renderer.png8(maps, channel: index)
        }
        if index == perMap && formats.contains(.montage) { return try renderer.montage(maps) }
        return NumPyFile.encode(maps)
    }
}
