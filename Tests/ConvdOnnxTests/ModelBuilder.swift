// Small ONNX models written in the tests, through the generated protobuf types: nodes,
// float initializers and one float input, saved into a temporary folder.
@testable import ConvdOnnx
import ConvdTestSupport
import Foundation

struct ModelBuilder {
    var proto = Onnx_ModelProto()

    init(opset: Int64 = 17, producer: String = "convd-tests") {
        proto.irVersion = 8
        proto.producerName = producer
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = opset
        proto.opsetImport = [set]
    }

    mutating func input(_ name: String, _ dims: [Int64?]) {
        proto.graph.input.append(Self.value(name, dims))
    }

    mutating func output(_ name: String) {
        proto.graph.output.append(Self.value(name, nil))
    }

    static func value(_ name: String, _ dims: [Int64?]?) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = 1
        if let dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let d { dim.dimValue = d } else { dim.dimParam = "n" }
                return dim
            }
            t.shape = shape
        }
        v.type.tensorType = t
        return v
    }

    mutating func weight(_ name: String, _ dims: [Int64], _ values: [Float]) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims
        t.dataType = 1
        t.floatData = values
        proto.graph.initializer.append(t)
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "",
                       domain: String = "", ints: [String: [Int64]] = [:], int: [String: Int64] = [:],
                       floats: [String: Float] = [:]) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name
        n.domain = domain
        func attributes<Value>(_ values: [String: Value], _ set: (inout Onnx_AttributeProto, Value) -> Void) {
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                var a = Onnx_AttributeProto()
                a.name = key
                set(&a, value)
                n.attribute.append(a)
            }
        }
        attributes(ints) { $0.type = .ints; $0.ints = $1 }
        attributes(int) { $0.type = .int; $0.i = $1 }
        attributes(floats) { $0.type = .float; $0.f = $1 }
        proto.graph.node.append(n)
    }

    func bytes() throws -> [UInt8] { try proto.serializedBytes() }

    /// Writes the model as `name` in `dir` and returns its path.
    func save(in dir: TemporaryDirectory, as name: String = "model.onnx") throws -> String {
        try dir.write(name, bytes())
    }
}
