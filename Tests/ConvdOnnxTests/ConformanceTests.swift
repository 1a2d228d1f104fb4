// ONNX's own per-operator test cases (Debian's libonnx-testdata, installed by scripts/bootstrap):
// every case in the data runs. A case whose operators convd has must give the expected outputs
// within 1e-4 relative, unless it is listed below with the reason it is refused, and then the
// import must refuse it with that reason. A case with an operator convd lacks must be refused
// with a report that names the operator. So a new case, or a changed result, fails the suite.
@testable import ConvdOnnx
import Foundation
import Testing

/// Cases of supported operators that convd refuses on purpose, with a fragment of the reason.
let refusedCases: [String: String] = [
    // Pooling's Indices output and the column-major storage order.
    "test_maxpool_with_argmax_2d_precomputed_pads": "Indices output",
    "test_maxpool_with_argmax_2d_precomputed_strides": "Indices output",
    // 1-D and 3-D windows: convd's spatial operators are 2-D.
    "test_averagepool_1d_default": "2-D", "test_averagepool_3d_default": "2-D",
    "test_maxpool_1d_default": "2-D", "test_maxpool_3d_default": "2-D",
    // Dropout in training mode draws random masks.
    "test_training_dropout": "training_mode", "test_training_dropout_default": "training_mode",
    "test_training_dropout_default_mask": "training_mode", "test_training_dropout_mask": "training_mode",
    "test_training_dropout_zero_ratio": "training_mode", "test_training_dropout_zero_ratio_mask": "training_mode",
    "test_batchnorm_epsilon_training_mode": "training", "test_batchnorm_example_training_mode": "training",
    // Resize modes convd does not implement.
    "test_resize_downsample_scales_cubic": "cubic", "test_resize_downsample_scales_cubic_align_corners": "cubic",
    "test_resize_downsample_scales_cubic_A_n0p5_exclude_outside": "cubic", "test_resize_upsample_scales_cubic": "cubic",
    "test_resize_upsample_scales_cubic_align_corners": "cubic", "test_resize_upsample_scales_cubic_asymmetric": "cubic",
    "test_resize_upsample_scales_cubic_A_n0p5_exclude_outside": "cubic", "test_resize_downsample_sizes_cubic": "cubic",
    "test_resize_upsample_sizes_cubic": "cubic", "test_resize_tf_crop_and_resize": "tf_crop_and_resize",
    // Images and weights are float: integer pooling and powers are not computed.
    "test_maxpool_2d_uint8": "int64, not float", "test_pow_types_float": "int64, not float",
    "test_pow_types_int32_float32": "int64, not float", "test_pow_types_int32_int32": "int64, not float",
    "test_pow_types_int64_float32": "int64, not float", "test_pow_types_int64_int64": "int64, not float",
    // Strings, sequences and optionals are not tensors convd computes with.
    "test_cast_FLOAT_to_STRING": "STRING", "test_cast_STRING_to_FLOAT": "STRING",
    "test_castlike_FLOAT_to_STRING_expanded": "STRING", "test_castlike_STRING_to_FLOAT_expanded": "STRING",
    "test_castlike_FLOAT_to_STRING": "STRING", "test_castlike_STRING_to_FLOAT": "STRING",
    "test_identity_opt": "not a tensor", "test_identity_sequence": "not a tensor",
]

struct CaseResult {
    enum Outcome: Equatable { case passed, refused, failed(String) }
    let name: String
    let operators: [String]
    let outcome: Outcome
}

@Suite("ONNX conformance")
struct ConformanceTests {
    static let root = "/usr/share/libonnx-testdata/data/node"

    @Test("every node test case passes or is refused for a stated reason")
    func nodeCases() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.root).sorted()
        #expect(names.count > 800, "libonnx-testdata is missing: run scripts/bootstrap")
        var results: [CaseResult] = []
        for name in names {
            results.append(Self.run(name))
        }
        let failures = results.compactMap { r -> String? in
            if case .failed(let why) = r.outcome { return "\(r.name): \(why)" }
            return nil
        }
        // Passed cases per supported operator, printed for the record.
        var passed: [String: Int] = [:], total = 0
        for r in results where r.outcome == .passed {
            total += 1
            for op in Set(r.operators) { passed[op, default: 0] += 1 }
        }
        print("ONNX conformance: \(total) of \(results.count) cases passed, "
              + "\(results.filter { $0.outcome == .refused }.count) refused as expected, \(failures.count) failed")
        print("passed per operator: " + passed.keys.sorted().map { "\($0) \(passed[$0]!)" }.joined(separator: ", "))
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) cases failed:\n" + failures.joined(separator: "\n")))
    }

    static func run(_ name: String) -> CaseResult {
        let dir = root + "/" + name
        let model = dir + "/model.onnx"
        let operators: [String]
        do {
            operators = try OnnxFile.read(model).operators()
        } catch {
            return CaseResult(name: name, operators: [], outcome: .failed("cannot list operators: \(error)"))
        }
        let missing = operators.filter { Operators.table[$0] == nil }
        let sets = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("test_data_set") }
        guard let set = sets.sorted().first else {
            return CaseResult(name: name, operators: operators, outcome: .failed("no test data set"))
        }
        // Data convd cannot read (strings, sequences, optionals) leaves the inputs unknown:
        // the import must then refuse the model by itself.
        let inputs = (try? files(dir + "/" + set, "input")) ?? []
        let expected = (try? files(dir + "/" + set, "output").map(\.tensor)) ?? []
        let declared = (try? OnnxImporter.declaredInputs(model)) ?? []
        var shapes: [String: [Int]] = [:], bound: [String: OnnxTensor] = [:], runtime: [OnnxTensor] = []
        // The first input runs through the graph, the others are constants, as a model's
        // weights, shapes, scales and bounds are.
        for (i, input) in declared.enumerated() where i < inputs.count {
            if i == 0 && inputs[i].storedType == 1 {
                shapes[input.name] = inputs[i].tensor.shape
                runtime.append(inputs[i].tensor)
            } else {
                bound[input.name] = inputs[i].tensor
            }
        }
        let graph: OnnxGraph
        do {
            graph = try OnnxImporter.load(model, shapes: shapes, bound: bound)
        } catch {
            let text = error.description
            if !missing.isEmpty {
                let named = missing.allSatisfy { text.contains("\($0) (opset") }
                return CaseResult(name: name, operators: operators,
                                  outcome: named ? .refused : .failed("the report does not name \(missing): \(text)"))
            }
            if let reason = refusedCases[name], text.contains(reason) {
                return CaseResult(name: name, operators: operators, outcome: .refused)
            }
            return CaseResult(name: name, operators: operators, outcome: .failed("refused: \(text)"))
        }
        if !missing.isEmpty {
            return CaseResult(name: name, operators: operators, outcome: .failed("imported despite missing \(missing)"))
        }
        if refusedCases[name] != nil {
            return CaseResult(name: name, operators: operators, outcome: .failed("listed as refused but imported"))
        }
        guard !expected.isEmpty, inputs.count == declared.count else {
            return CaseResult(name: name, operators: operators, outcome: .failed("imported, but its data is unreadable"))
        }
        let outputs = graph.run(runtime)
        guard outputs.count >= expected.count else {
            return CaseResult(name: name, operators: operators, outcome: .failed("\(outputs.count) outputs"))
        }
        for (i, (got, want)) in zip(outputs, expected).enumerated() {
            if let why = mismatch(got, want) {
                return CaseResult(name: name, operators: operators, outcome: .failed("output \(i): \(why)"))
            }
        }
        return CaseResult(name: name, operators: operators, outcome: .passed)
    }

    /// The case's tensors. NumPy has no bfloat16, so ONNX stores those cases' values as their
    /// UINT16 bit patterns: they are read back as bfloat16.
    static func files(_ dir: String, _ prefix: String) throws -> [(name: String, storedType: Int, tensor: OnnxTensor)] {
        var result: [(name: String, storedType: Int, tensor: OnnxTensor)] = []
        var i = 0
        while FileManager.default.fileExists(atPath: "\(dir)/\(prefix)_\(i).pb") {
            var file = try OnnxTensor.read(protobuf: "\(dir)/\(prefix)_\(i).pb")
            if file.storedType == 4 && dir.contains("BFLOAT16") {
                file.tensor = OnnxTensor(shape: file.tensor.shape,
                                         floats: file.tensor.ints.map { Float(bitPattern: UInt32($0) << 16) })
                file.storedType = 16
            }
            result.append(file)
            i += 1
        }
        return result
    }

    /// Why `got` is not `want`: shape, or the first value off by more than 1e-4 relative.
    static func mismatch(_ got: OnnxTensor, _ want: OnnxTensor) -> String? {
        guard got.shape == want.shape else { return "shape \(got.shape) instead of \(want.shape)" }
        for i in 0..<want.count {
            let a = got.float(at: i), b = want.float(at: i)
            if a.isNaN && b.isNaN { continue }
            if a == b { continue }
            guard abs(a - b) <= 1e-4 * max(abs(b), 1e-1) else { return "value \(i) is \(a), expected \(b)" }
        }
        return nil
    }
}
