// Resolving what the user names: an architecture (preset or TOML file) or a model file.
import ConvdConfig
import ConvdImage
import ConvdNet
import ConvdSystem

enum ModelLoading {
    /// A preset name or an architecture TOML file.
    static func architecture(_ name: String) throws -> Architecture {
        if let preset = Architecture.preset(name) { return preset }
        guard name.hasSuffix(".toml") || FileIO.isRegularFile(name) else {
            throw CommandError("\(name): neither a preset (\(Preset.allCases.map(\.rawValue).joined(separator: ", "))) "
                               + "nor an architecture .toml file")
        }
        let bytes = try FileIO.readAll(name, limit: 1 << 20)
        return try ArchitectureFile.parse(String(decoding: bytes, as: UTF8.self), path: name)
    }

    /// A `.safetensors` model file.
    static func model(_ path: String) throws -> Model {
        try ModelFile.decode(FileIO.readAll(path, limit: 1 << 30), path: path)
    }
}

/// An error the command prints as one line, exiting with status 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
