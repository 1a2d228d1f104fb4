// The importer on models written here: one report listing every unsupported operator,
// truncated and hostile files, external data outside the model's folder, absurd dimensions,
// a dynamic input size, function inlining, and the fusions (same numbers as unfused).
@testable import ConvdOnnx
import ConvdTestSupport
import Foundation
import Testing

@Suite("ONNX import")
struct ImportTests {
    /// x (1×2×4×4) → Conv 2→3 3×3 pad 1 → BatchNormalization → Relu → y.
    static func convBatchNormRelu(extraOutput: Bool = false) -> ModelBuilder {
        var m = ModelBuilder()
        m.input("x", [1, 2, 4, 4])
        m.weight("w", [3, 2, 3, 3], (0..<54).map { Float($0 % 7) * 0.1 - 0.3 })
        m.weight("b", [3], [0.1, -0.2, 0.3])
        m.weight("gamma", [3], [1.5, 0.5, -1])
        m.weight("beta", [3], [0.2, 0, -0.1])
        m.weight("mean", [3], [0.05, -0.1, 0.2])
        m.weight("var", [3], [0.9, 1.2, 0.5])
        m.node("Conv", ["x", "w", "b"], ["c"], ints: ["pads": [1, 1, 1, 1]])
        m.node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"], floats: ["epsilon": 1e-3])
        m.node("Relu", ["n"], ["y"])
        m.output("y")
        if extraOutput { m.output("c") }
        return m
    }

    static let input = OnnxTensor(shape: [1, 2, 4, 4], floats: (0..<32).map { Float($0 % 5) - 2 })

    @Test("Conv + BatchNormalization + Relu fold into one step with the same numbers")
    func fusion() throws {
        let dir = TemporaryDirectory()
        let fused = try OnnxImporter.load(Self.convBatchNormRelu().save(in: dir, as: "fused.onnx"))
        // With the convolution's own output also a graph output, nothing may fuse.
        let plain = try OnnxImporter.load(Self.convBatchNormRelu(extraOutput: true).save(in: dir, as: "plain.onnx"))
        #expect(fused.rows.map(\.op) == ["Conv"])
        #expect(fused.rows[0].fused == "relu")
        #expect(plain.rows.map(\.op) == ["Conv", "BatchNormalization", "Relu"])
        let a = fused.run([Self.input])[0], b = plain.run([Self.input])[0]
        #expect(a.shape == [1, 3, 4, 4])
        for (x, y) in zip(a.floats, b.floats) { #expect(abs(x - y) <= 1e-5 * max(1, abs(y))) }
        #expect(a.floats.contains { $0 > 0 } && a.floats.contains { $0 == 0 })
    }

    @Test("a Relu after a float residual Add folds into the Add with the same numbers; an integer Add's Relu is not folded")
    func addReluFusion() throws {
        let dir = TemporaryDirectory()
        func residual(extraOutput: Bool) -> ModelBuilder {
            var m = ModelBuilder()
            m.input("x", [1, 2, 4, 4])
            m.weight("w", [2, 2, 3, 3], (0..<36).map { Float($0 % 5) * 0.2 - 0.45 })
            m.node("Conv", ["x", "w"], ["c"], ints: ["pads": [1, 1, 1, 1]])
            m.node("Add", ["c", "x"], ["s"])
            m.node("Relu", ["s"], ["y"])
            m.output("y")
            if extraOutput { m.output("s") }
            return m
        }
        let fused = try OnnxImporter.load(residual(extraOutput: false).save(in: dir, as: "fused.onnx"))
        let plain = try OnnxImporter.load(residual(extraOutput: true).save(in: dir, as: "plain.onnx"))
        #expect(fused.rows.map(\.op) == ["Conv", "Add"])
        #expect(fused.rows[1].fused == "relu")
        #expect(plain.rows.map(\.op) == ["Conv", "Add", "Relu"])
        for threads in [1, 2] {
            let a = fused.run([Self.input], threads: threads)[0], b = plain.run([Self.input], threads: threads)[0]
            #expect(a.floats.map(\.bitPattern) == b.floats.map(\.bitPattern))
            #expect(a.floats.contains { $0 > 0 } && a.floats.contains { $0 == 0 })
        }
        var ints = ModelBuilder()
        ints.input("x", [1, 4])
        ints.node("Cast", ["x"], ["i"], int: ["to": 7])
        ints.node("Add", ["i", "i"], ["s"])
        ints.node("Relu", ["s"], ["y"])
        ints.output("y")
        // Not fused: the report names the Relu itself, which takes floats only.
        let path = try ints.save(in: dir, as: "ints.onnx")
        let error = #expect(throws: OnnxError.self) { try OnnxImporter.load(path) }
        #expect("\(error!)".contains("Relu \"y\": input 1 is int64, not float"), "\(error!)")
    }

    @Test("every unsupported operator is listed once, with counts and node names, before anything runs")
    func unsupportedReport() throws {
        var m = ModelBuilder(opset: 20, producer: "pytorch")
        m.input("x", [1, 4])
        m.node("Einsum", ["x"], ["a"], name: "/head/einsum")
        m.node("NonMaxSuppression", ["a"], ["b"], name: "nms_1")
        m.node("NonMaxSuppression", ["b"], ["c"], name: "nms_2")
        m.node("Relu", ["c"], ["d"])
        m.node("FusedConv", ["d"], ["y"], name: "ms", domain: "com.microsoft")
        m.output("y")
        let dir = TemporaryDirectory()
        let path = try m.save(in: dir)
        let error = #expect(throws: OnnxError.self) { try OnnxImporter.load(path) }
        let text = error?.description ?? ""
        let headline = text.split(separator: "\n").first.map(String.init) ?? ""
        #expect(headline.hasPrefix(path + ": not supported: 3 operators — "))
        #expect(headline.contains("Einsum (opset 20) at node \"/head/einsum\""))
        #expect(headline.contains("NonMaxSuppression (opset 20) ×2 at nodes \"nms_1\", \"nms_2\""))
        #expect(headline.contains("com.microsoft.FusedConv (opset 0) at node \"ms\""))
        #expect(headline.contains("producer pytorch, IR 8, opset 20, 5 nodes"))
    }

    @Test("a truncated file and random bytes are refused with one line")
    func truncated() throws {
        let dir = TemporaryDirectory()
        let full = try Self.convBatchNormRelu().bytes()
        for bytes in [Array(full.prefix(full.count / 2)), Array(full.prefix(3)), [UInt8](repeating: 0xFF, count: 64), []] {
            let path = try dir.write("cut.onnx", bytes)
            let error = #expect(throws: OnnxError.self) { try OnnxImporter.load(path) }
            #expect(error?.reason.hasPrefix("not an ONNX model") == true, "\(error?.description ?? "")")
        }
    }

    /// A model whose weight lives in external data at `location`, `length` bytes from `offset`.
    static func external(_ location: String, offset: Int = 0, length: Int = 16) -> ModelBuilder {
        var m = ModelBuilder()
        m.input("x", [1, 4])
        var t = Onnx_TensorProto()
        t.name = "w"
        t.dims = [4]
        t.dataType = 1
        t.dataLocation = .external
        for (key, value) in [("location", location), ("offset", String(offset)), ("length", String(length))] {
            var e = Onnx_StringStringEntryProto()
            e.key = key
            e.value = value
            t.externalData.append(e)
        }
        m.proto.graph.initializer.append(t)
        m.node("Add", ["x", "w"], ["y"])
        m.output("y")
        return m
    }

    @Test("external data is read only from a plain file beside the model, inside its length")
    func externalData() throws {
        let dir = TemporaryDirectory()
        let floats: [Float] = [1, 2, 3, 4]
        _ = try dir.write("weights.bin", floats.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
        let good = try OnnxImporter.load(Self.external("weights.bin").save(in: dir, as: "good.onnx"))
        #expect(good.run([OnnxTensor(shape: [1, 4], floats: [1, 1, 1, 1])])[0].floats == [2, 3, 4, 5])

        let outside = TemporaryDirectory()
        _ = try outside.write("secret.bin", [UInt8](repeating: 0, count: 16))
        let sub = dir.path + "/sub"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link.bin", withDestinationPath: outside.path + "/secret.bin")
        let cases: [(String, Int, Int, String)] = [
            ("../" + (outside.path as NSString).lastPathComponent + "/secret.bin", 0, 16, "beside the model"),
            (outside.path + "/secret.bin", 0, 16, "beside the model"),
            ("..", 0, 16, "beside the model"),
            ("sub", 0, 16, "not a regular file"),
            ("link.bin", 0, 16, "symbolic link"),
            ("weights.bin", 8, 16, "lies outside"),
            ("weights.bin", 0, 8, "holds 8 bytes"),
            ("missing.bin", 0, 16, "cannot open"),
        ]
        for (location, offset, length, reason) in cases {
            let path = try Self.external(location, offset: offset, length: length).save(in: dir, as: "bad.onnx")
            let error = #expect(throws: OnnxError.self) { try OnnxImporter.load(path) }
            #expect(error?.description.contains(reason) == true, "\(location): \(error?.description ?? "")")
        }
    }

    @Test("absurd dimensions are refused before anything is allocated")
    func absurdDimensions() throws {
        let dir = TemporaryDirectory()
        var huge = ModelBuilder()
        huge.input("x", [1, 4])
        var t = Onnx_TensorProto()
        t.name = "w"
        t.dims = [1 << 40, 1 << 40]
        t.dataType = 1
        huge.proto.graph.initializer.append(t)
        huge.node("Add", ["x", "w"], ["y"])
        huge.output("y")
        let e1 = #expect(throws: OnnxError.self) { try OnnxImporter.load(huge.save(in: dir, as: "a.onnx")) }
        #expect(e1?.description.contains("has dimension") == true, "\(e1?.description ?? "")")

        var wide = ModelBuilder()
        wide.input("x", [1, 3, 100_000, 100_000])
        wide.node("Relu", ["x"], ["y"])
        wide.output("y")
        let e2 = #expect(throws: OnnxError.self) { try OnnxImporter.load(wide.save(in: dir, as: "b.onnx")) }
        #expect(e2?.description.contains("elements") == true, "\(e2?.description ?? "")")

        var negative = ModelBuilder()
        negative.input("x", [1, 4])
        negative.weight("s", [2], [])
        negative.proto.graph.initializer[0].floatData = []
        negative.proto.graph.initializer[0].int64Data = [-5, 3]
        negative.proto.graph.initializer[0].dataType = 7
        negative.node("Reshape", ["x", "s"], ["y"])
        negative.output("y")
        let e3 = #expect(throws: OnnxError.self) { try OnnxImporter.load(negative.save(in: dir, as: "c.onnx")) }
        #expect(e3?.description.contains("Reshape") == true, "\(e3?.description ?? "")")
    }

    @Test("a dynamic input size must be given, and the message says which input")
    func dynamicInput() throws {
        var m = ModelBuilder()
        m.input("image", [nil, 3, nil, nil])
        m.node("Relu", ["image"], ["y"])
        m.output("y")
        let dir = TemporaryDirectory()
        let path = try m.save(in: dir)
        let error = #expect(throws: OnnxError.self) { try OnnxImporter.load(path) }
        #expect(error?.description.contains("input \"image\" has a dynamic shape (?×3×?×?)") == true,
                "\(error?.description ?? "")")
        let graph = try OnnxImporter.load(path, shapes: ["image": [1, 3, 5, 7]])
        #expect(graph.outputs[0].shape == [1, 3, 5, 7])
    }

    @Test("model-local functions are inlined, their attribute references bound")
    func functions() throws {
        var m = ModelBuilder()
        var local = Onnx_OperatorSetIdProto()
        local.domain = "local"
        local.version = 1
        m.proto.opsetImport.append(local)
        var f = Onnx_FunctionProto()
        f.name = "LeakyBlock"
        f.domain = "local"
        f.input = ["a"]
        f.output = ["b"]
        f.attribute = ["slope"]
        var inner = Onnx_NodeProto()
        inner.opType = "LeakyRelu"
        inner.input = ["a"]
        inner.output = ["t"]
        var ref = Onnx_AttributeProto()
        ref.name = "alpha"
        ref.refAttrName = "slope"
        ref.type = .float
        inner.attribute = [ref]
        var neg = Onnx_NodeProto()
        neg.opType = "Neg"
        neg.input = ["t"]
        neg.output = ["b"]
        f.node = [inner, neg]
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        f.opsetImport = [opset]
        m.proto.functions = [f]
        m.input("x", [1, 3])
        m.node("LeakyBlock", ["x"], ["y"], name: "call", domain: "local", floats: ["slope": 0.5])
        m.node("LeakyBlock", ["y"], ["z"], name: "again", domain: "local", floats: ["slope": 0.25])
        m.output("z")
        let dir = TemporaryDirectory()
        let graph = try OnnxImporter.load(m.save(in: dir))
        #expect(graph.rows.map(\.op) == ["LeakyRelu", "Neg", "LeakyRelu", "Neg"])
        // x = [-4, 2, 0]: −leaky(x, 0.5) = [2, −2, 0]; −leaky(that, 0.25) = [−2, 0.5, 0].
        #expect(graph.run([OnnxTensor(shape: [1, 3], floats: [-4, 2, 0])])[0].floats == [-2, 0.5, 0])
    }
}
