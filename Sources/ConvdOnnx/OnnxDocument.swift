// OnnxDocument: a ModelProto read into plain values — nodes with named inputs and outputs,
// attributes, initializers as OnnxTensors, the declared inputs and outputs, model-local
// functions and metadata. Parsing is bounded: the file size, every tensor's element count and
// byte length, the node count; external data is read only from plain file names in the
// model's own folder, never through a symbolic link, and only inside the file's length.
import ConvdSystem
import Foundation
import SwiftProtobuf

/// Limits on what a model file may declare.
public struct OnnxLimits: Sendable {
    /// The `.onnx` file and each external data file.
    public var maxFileBytes = 2 << 30
    /// Elements of one tensor (initializer, constant or computed value).
    public var maxElements = 1 << 28
    /// Nodes after inlining functions.
    public var maxNodes = 100_000

    public init() {}
}

/// A node attribute.
enum Attribute: Equatable {
    case float(Float)
    case int(Int64)
    case string(String)
    case tensor(OnnxTensor)
    case floats([Float])
    case ints([Int64])
    case strings([String])
    /// A subgraph, sparse tensor or type: convd has no operator that takes one.
    case unsupported(String)
}

/// One operator application.
struct OnnxNode {
    var name: String
    var opType: String
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: Attribute]
    /// The opset version of the node's domain in force where it is used.
    var opset: Int

    /// The name for messages: the node's name, or its first output's.
    var label: String { name.isEmpty ? (outputs.first ?? opType) : name }
}

/// A declared graph input or output.
struct ValueDeclaration {
    let name: String
    /// The ONNX element type number (1 = FLOAT).
    let elementType: Int
    /// Dimensions; nil for a symbolic or missing one.
    let shape: [Int?]?
}

/// A model-local function.
struct OnnxFunction {
    let name: String
    let domain: String
    let inputs: [String]
    let outputs: [String]
    let attributeDefaults: [String: Attribute]
    let nodes: [Onnx_NodeProto]
    let opsets: [String: Int]
}

/// A model file read into plain values.
struct OnnxDocument {
    let path: String
    let irVersion: Int
    let producer: String
    let opsets: [String: Int]
    let nodes: [Onnx_NodeProto]
    let initializers: [String: OnnxTensor]
    /// The ONNX element type each initializer is stored in.
    let initializerTypes: [String: Int]
    let inputs: [ValueDeclaration]
    let outputs: [ValueDeclaration]
    let functions: [String: OnnxFunction]
    let metadata: [String: String]
    /// Problems found while reading (sparse initializers, training information).
    let problems: [String]

    /// The opset of the default domain.
    var defaultOpset: Int { opsets[""] ?? opsets["ai.onnx"] ?? 0 }

    /// `pytorch 2.13, IR 10, opset 20`.
    var provenance: String {
        "\(producer.isEmpty ? "unknown producer" : producer), IR \(irVersion), opset \(defaultOpset)"
    }

    /// Reads the model at `path`.
    static func read(_ path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError) -> OnnxDocument {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path, limit: limits.maxFileBytes)
        } catch {
            throw OnnxError(path: path, reason: error.reason)
        }
        return try parse(bytes, path: path, limits: limits)
    }

    /// Parses the bytes of the model at `path` (external data is looked up beside `path`).
    static func parse(_ bytes: [UInt8], path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError)
        -> OnnxDocument {
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        options.messageDepthLimit = 32
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes, options: options)
        } catch {
            throw OnnxError(path: path, reason: "not an ONNX model: the protobuf does not parse (\(error))")
        }
        guard model.hasGraph, !model.graph.output.isEmpty else {
            throw OnnxError(path: path, reason: "not an ONNX model: it has no graph with outputs")
        }
        guard model.graph.node.count <= limits.maxNodes else {
            throw OnnxError(path: path, reason: "\(model.graph.node.count) nodes, over the limit of \(limits.maxNodes)")
        }
        var opsets: [String: Int] = [:]
        for o in model.opsetImport { opsets[o.domain == "ai.onnx" ? "" : o.domain] = Int(clamping: o.version) }
        let reader = TensorReader(path: path, limits: limits)
        var initializers: [String: OnnxTensor] = [:]
        var initializerTypes: [String: Int] = [:]
        for t in model.graph.initializer {
            initializers[t.name] = try reader.tensor(t)
            initializerTypes[t.name] = Int(t.dataType)
        }
        var functions: [String: OnnxFunction] = [:]
        for f in model.functions {
            var defaults: [String: Attribute] = [:]
            for a in f.attributeProto { defaults[a.name] = try reader.attribute(a) }
            var fo: [String: Int] = [:]
            for o in f.opsetImport { fo[o.domain == "ai.onnx" ? "" : o.domain] = Int(clamping: o.version) }
            functions[f.domain + "\u{0}" + f.name] = OnnxFunction(name: f.name, domain: f.domain, inputs: f.input,
                                                                 outputs: f.output, attributeDefaults: defaults,
                                                                 nodes: f.node, opsets: fo)
        }
        var problems: [String] = []
        if !model.graph.sparseInitializer.isEmpty { problems.append("sparse initializers are not supported") }
        if !model.trainingInfo.isEmpty { problems.append("training information is not supported") }
        var metadata: [String: String] = [:]
        for p in model.metadataProps { metadata[p.key] = p.value }
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return OnnxDocument(path: path, irVersion: Int(clamping: model.irVersion), producer: producer, opsets: opsets,
                            nodes: model.graph.node, initializers: initializers, initializerTypes: initializerTypes,
                            inputs: model.graph.input.map(declaration), outputs: model.graph.output.map(declaration),
                            functions: functions, metadata: metadata, problems: problems)
    }

    private static func declaration(_ v: Onnx_ValueInfoProto) -> ValueDeclaration {
        guard case .tensorType(let t)? = v.type.value else {
            return ValueDeclaration(name: v.name, elementType: 0, shape: nil)
        }
        let shape: [Int?]? = t.hasShape ? t.shape.dim.map { d in
            if case .dimValue(let n)? = d.value, n >= 0 { return Int(clamping: n) }
            return nil
        } : nil
        return ValueDeclaration(name: v.name, elementType: Int(t.elemType), shape: shape)
    }
}

/// Decodes TensorProtos and attributes, reading external data beside the model (each data
/// file once).
final class TensorReader {
    let path: String
    let limits: OnnxLimits
    private var files: [String: [UInt8]] = [:]

    init(path: String, limits: OnnxLimits) {
        self.path = path
        self.limits = limits
    }

    /// The model's folder and the file name within it.
    var folder: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    func attribute(_ a: Onnx_AttributeProto) throws(OnnxError) -> Attribute {
        switch a.type {
        case .float: return .float(a.f)
        case .int: return .int(a.i)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .tensor: return .tensor(try tensor(a.t))
        case .floats: return .floats(a.floats)
        case .ints: return .ints(a.ints)
        case .strings: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        case .undefined:
            // Writers before IR 4 leave the type out: infer it from the field that is set.
            if !a.ints.isEmpty { return .ints(a.ints) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            if !a.s.isEmpty { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasT { return .tensor(try tensor(a.t)) }
            return .unsupported("an attribute without a type")
        default: return .unsupported("a \(a.type) attribute")
        }
    }

    /// The tensor's values, converted to float32 or int64 storage.
    func tensor(_ t: Onnx_TensorProto) throws(OnnxError) -> OnnxTensor {
        let label = t.name.isEmpty ? "a tensor" : "tensor \"\(t.name)\""
        var shape: [Int] = []
        var count = 1
        for d in t.dims {
            guard d >= 0, d <= Int64(limits.maxElements) else {
                throw OnnxError(path: path, reason: "\(label) has dimension \(d)")
            }
            shape.append(Int(d))
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, product <= limits.maxElements else {
                throw OnnxError(path: path, reason: "\(label) of shape \(t.dims.map(String.init).joined(separator: "×")) "
                                + "has more than \(limits.maxElements) elements")
            }
            count = product
        }
        guard let kind = StoredType(rawValue: Int(t.dataType)) else {
            throw OnnxError(path: path, reason: "\(label) has element type \(typeName(Int(t.dataType))), "
                            + "which convd does not read")
        }
        if t.hasSegment { throw OnnxError(path: path, reason: "\(label) is segmented; convd does not read segments") }
        var raw: [UInt8]?
        if t.dataLocation == .external {
            raw = try external(t, label: label)
        } else if t.hasRawData {
            raw = [UInt8](t.rawData)
        }
        if let raw {
            guard raw.count == count * kind.byteWidth else {
                throw OnnxError(path: path, reason: "\(label) holds \(raw.count) bytes of data, but its shape needs "
                                + "\(count * kind.byteWidth)")
            }
            return kind.decode(raw, shape: shape)
        }
        let typed: OnnxTensor?
        switch kind {
        case .float: typed = t.floatData.count == count ? OnnxTensor(shape: shape, floats: t.floatData) : nil
        case .double: typed = t.doubleData.count == count ? OnnxTensor(shape: shape, floats: t.doubleData.map(Float.init)) : nil
        case .float16, .bfloat16:
            typed = t.int32Data.count == count
                ? kind.decode(t.int32Data.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] },
                              shape: shape) : nil
        case .int64: typed = t.int64Data.count == count ? OnnxTensor(shape: shape, ints: t.int64Data) : nil
        case .int32, .int16, .int8, .uint16, .uint8:
            typed = t.int32Data.count == count ? OnnxTensor(shape: shape, ints: t.int32Data.map(Int64.init)) : nil
        case .bool:
            typed = t.int32Data.count == count
                ? OnnxTensor(shape: shape, ints: t.int32Data.map { $0 != 0 ? 1 : 0 }, type: .bool) : nil
        case .uint32, .uint64:
            typed = t.uint64Data.count == count
                ? OnnxTensor(shape: shape, ints: t.uint64Data.map { Int64(clamping: $0) }) : nil
        }
        guard let typed else {
            throw OnnxError(path: path, reason: "\(label) has no data for its \(count) elements")
        }
        return typed
    }

    /// The bytes of an external tensor: `location` must be a plain name of a regular file in
    /// the model's folder (no `/`, no `..`, no symbolic link), `offset + length` inside it.
    private func external(_ t: Onnx_TensorProto, label: String) throws(OnnxError) -> [UInt8] {
        var keys: [String: String] = [:]
        for e in t.externalData { keys[e.key] = e.value }
        guard let location = keys["location"], Directory.isPlainName(Array(location.utf8)) else {
            throw OnnxError(path: path, reason: "\(label) has its data in \"\(keys["location"] ?? "")\"; external data "
                            + "must be a file beside the model, named without a folder")
        }
        let offset = Int(keys["offset"] ?? "0") ?? -1
        let length = keys["length"].map { Int($0) ?? -1 }
        guard offset >= 0, length.map({ $0 >= 0 }) ?? true else {
            throw OnnxError(path: path, reason: "\(label) has an external data offset or length that is not a number")
        }
        let bytes: [UInt8]
        if let cached = files[location] {
            bytes = cached
        } else {
            do {
                let directory = try Directory.open(folder)
                if let info = directory.status(Array(location.utf8)), (info.st_mode & S_IFMT) == S_IFLNK {
                    throw OnnxError(path: path, reason: "\(label): \(location) is a symbolic link; external data must "
                                    + "be a regular file beside the model")
                }
                // O_NOFOLLOW all the same: a link put in place after the check is refused.
                bytes = try directory.openFile(Array(location.utf8), follow: false).readAll(limit: limits.maxFileBytes)
            } catch let error as OnnxError {
                throw error
            } catch {
                throw OnnxError(path: path, reason: "\(label): \(error)")
            }
            files[location] = bytes
        }
        let end = offset.addingReportingOverflow(length ?? (bytes.count - offset))
        guard offset <= bytes.count, !end.overflow, end.partialValue <= bytes.count, end.partialValue >= offset else {
            throw OnnxError(path: path, reason: "\(label) lies outside \(location) (offset \(offset), length "
                            + "\(length.map(String.init) ?? "to the end"), file \(bytes.count) bytes)")
        }
        return Array(bytes[offset..<end.partialValue])
    }
}

extension OnnxTensor {
    /// A serialized TensorProto file (as ONNX's test cases store inputs and outputs): its name
    /// and value, with the element type number it was stored in.
    public static func read(protobuf path: String, limits: OnnxLimits = OnnxLimits()) throws(OnnxError)
        -> (name: String, storedType: Int, tensor: OnnxTensor) {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path, limit: limits.maxFileBytes)
        } catch {
            throw OnnxError(path: path, reason: error.reason)
        }
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: bytes)
        } catch {
            throw OnnxError(path: path, reason: "not a TensorProto (\(error))")
        }
        return (proto.name, Int(proto.dataType), try TensorReader(path: path, limits: limits).tensor(proto))
    }
}
