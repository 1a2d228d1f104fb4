// Model files that once trapped, allocated terabytes or hung the importer (found by review):
// each must now load or be refused with a one-line-headed error naming the file — never a
// crash. Fixtures/hostile holds them (made with onnx.helper: 8×8 inputs with a side branch of
// the bad operator; fn_hang nests 15 levels of functions, each calling the next 10 times).
import ConvdConfig
import ConvdCore
@testable import ConvdOnnx
import Foundation
import Testing

@Suite("Hostile ONNX model files")
struct HostileModelTests {
    static let folder = WholeModelTests.fixtures + "/hostile"

    /// The ones that are valid models after all, with what they must compute.
    static let valid: Set = ["cast_huge", "convd_clip", "div_min", "slice_step_max", "slice_step_min"]

    @Test("each loads or is refused with a clear error", arguments: (try? FileManager.default.contentsOfDirectory(
        atPath: folder).filter { $0.hasSuffix(".onnx") }.sorted()) ?? [])
    func refusedOrLoaded(_ name: String) throws {
        let path = Self.folder + "/" + name
        let stem = String(name.dropLast(5))
        do {
            let model = try OnnxModelFile.load(path)
            #expect(Self.valid.contains(stem), "\(stem) was accepted")
            let p = model.classify([Tensor(channels: 3, height: 8, width: 8, repeating: 0.5)], threads: 1)[0]
            #expect(p.allSatisfy(\.isFinite) && abs(p.reduce(0, +) - 1) < 1e-5)
        } catch {
            #expect(!Self.valid.contains(stem), "\(stem): \(error)")
            #expect("\(error)".hasPrefix(path + ": "), "\(error)")
        }
    }

    @Test("all of them are there")
    func present() throws {
        #expect(try FileManager.default.contentsOfDirectory(atPath: Self.folder).count == 30)
    }

    @Test("a very long thin image is cropped before it is resized")
    func thinImage() {
        var p = Preprocessing(width: 224, height: 224, channels: 3)
        p.resize = .shorterSide(256)
        // 1×200,000 pixels: scaling the short side to 256 first would make 51 million columns.
        let image = Tensor(channels: 3, height: 1, width: 200_000, repeating: 0.25)
        let x = p.prepare(image)
        #expect(x.shape == [1, 3, 224, 224])
        #expect(x.floats.allSatisfy { abs($0 - 0.25) < 1e-6 })
    }
}
