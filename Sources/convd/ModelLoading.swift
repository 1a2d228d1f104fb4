// Resolving what the user names: an architecture (preset or TOML file) or a model file —
// convd's own (.safetensors) or an imported ONNX graph (.onnx, with its .toml).
import ConvdConfig
import ConvdImage
import ConvdNet
import ConvdOnnx
import ConvdPipeline
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

    /// A model to train further: a `.safetensors` model, or an ONNX graph converted to convd
    /// layers (OnnxTraining.swift).
    static func trainableModel(_ path: String, config: String?) throws -> Model {
        if OnnxModelFile.isOnnx(path) { return try OnnxModelFile.trainableModel(path, config: config) }
        if config != nil { throw CommandError("--model-config: only ONNX models (.onnx) take a preprocessing .toml") }
        return try model(path)
    }

    /// A model of either kind, with what the image pipeline needs to know of it.
    static func classifier(_ path: String, config: String?) throws -> (any ImageClassifier, ModelFootprint) {
        if OnnxModelFile.isOnnx(path) {
            let onnx = try OnnxModelFile.load(path, config: config)
            return (onnx, ModelFootprint(onnx))
        }
        if config != nil { throw CommandError("--model-config: only ONNX models (.onnx) take a preprocessing .toml") }
        let model = try model(path)
        return (model, ModelFootprint(model))
    }
}

/// An error the command prints as one line, exiting with status 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
