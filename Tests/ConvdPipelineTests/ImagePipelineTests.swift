// The one image pipeline: limits in order before any buffer, the job's memory computed from
// the header and the chain's shapes, outputs written one at a time under O_EXCL names.
import ConvdCore
import ConvdImage
import ConvdPipeline
import ConvdSystem
import ConvdTestSupport
import Testing

@Suite("Image pipeline")
struct ImagePipelineTests {
    static func chain(_ text: String) throws -> ChainSpec { try ChainSpec.load(text, name: "c") }

    static func gray(width: Int, height: Int, bitDepth: Int = 8, colorType: PNGFixture.ColorType = .gray) throws -> [UInt8] {
        let count = width * height * colorType.samplesPerPixel
        return try PNGFixture(width: width, height: height, colorType: colorType, bitDepth: bitDepth,
                              samples: [UInt16](repeating: 0, count: count)).encoded()
    }

    @Test("the peak for gray | sobel-x on a 100×50 gray image is step 2: image, input and output")
    func peakOfSteps() throws {
        let png = try Self.gray(width: 100, height: 50)
        let pipeline = ImagePipeline(chain: try Self.chain("gray | sobel-x"),
                                     output: FeatureMapOutput(chainName: "c", formats: .npy), maxJobBytes: 1 << 30)
        let memory = try pipeline.plan(png, path: "a.png")
        // 5,000 pixels as float32 = 20,000 bytes: the image, step 2's input and its output.
        #expect(memory.bytes == 60_000 + JobMemory.overhead)
        #expect(memory.phase == "step 2 \"sobel-x\"")
    }

    @Test("decode is the peak without a chain: the file, 8 bytes a pixel of RGBA16 samples, 12 of floats")
    func peakOfDecode() throws {
        let png = try Self.gray(width: 64, height: 32, bitDepth: 16, colorType: .rgba)
        let pipeline = ImagePipeline(maxJobBytes: 1 << 30)
        let memory = try pipeline.plan(png, path: "a.png")
        #expect(memory.bytes == png.count + 64 * 32 * 8 + 64 * 32 * 12 + JobMemory.overhead)
        #expect(memory.phase == "decode")
    }

    @Test("a job over max_job_bytes is refused before decoding, naming the need and the limit")
    func overBudget() throws {
        let png = try Self.gray(width: 4000, height: 4000, bitDepth: 16, colorType: .rgba)
        let pipeline = ImagePipeline(chain: try Self.chain("gray | conv(sobel-x, sobel-y) | magnitude"),
                                     output: FeatureMapOutput(chainName: "c", formats: [.png, .npy]),
                                     maxJobBytes: 64 << 20)
        #expect(throws: PipelineError.self) { try pipeline.run(png, path: "big.png") }
        do {
            _ = try pipeline.run(png, path: "big.png")
        } catch {
            guard case .refused(let e) = error else { Issue.record("\(error)"); return }
            #expect(e.path == "big.png")
            #expect(e.reason.hasPrefix("4000×4000 needs about "), "\(e.reason)")
            #expect(e.reason.hasSuffix("over max_job_bytes (64.0 MiB)"), "\(e.reason)")
        }
    }

    @Test("file size, then pixels, then the chain's shapes: each refusal names its limit")
    func limitsInOrder() throws {
        let png = try Self.gray(width: 300, height: 200)
        var pipeline = ImagePipeline(maxJobBytes: 1 << 30)
        pipeline.decode.limits = ImageLimits(maxPixels: 59_999, maxFileBytes: 1 << 20)
        #expect(Self.reason(pipeline, png) == "300×200 is 60000 pixels, over the limit of 59999 pixels")
        pipeline.decode.limits = ImageLimits(maxPixels: 60_000, maxFileBytes: png.count - 1)
        #expect(Self.reason(pipeline, png) == "file is \(png.count) bytes, over the limit of \(png.count - 1) bytes")
        pipeline.decode.limits = .default
        pipeline.chain = try Self.chain("maxpool(256)")
        #expect(Self.reason(pipeline, png) == "step 1 \"maxpool(256)\": a 256×256 window does not fit a 200×300 input: "
                + "the output would be 0×1 (input 1×200×300)")
        #expect(Self.reason(pipeline, Array(png.prefix(20))) != nil)
    }

    static func reason(_ pipeline: ImagePipeline, _ png: [UInt8]) -> String? {
        do {
            _ = try pipeline.run(png, path: "x.png")
            return nil
        } catch {
            switch error {
            case .refused(let e), .undecodable(let e): return e.reason
            case .write(let e): return e.reason
            }
        }
    }

    @Test("a run gives the chain's maps; outputs are written one by one, no temporary left")
    func writes() throws {
        let dir = TemporaryDirectory()
        let pipeline = ImagePipeline(chain: try Self.chain("gray"),
                                     output: FeatureMapOutput(chainName: "c", formats: [.png16, .npy]),
                                     maxJobBytes: 1 << 30)
        let png = try PNGFixture(width: 2, height: 2, colorType: .gray, bitDepth: 16,
                                 samples: [0, 32768, 65535, 16384]).encoded()
        let result = try pipeline.run(png, path: "x.png")
        let folder = try Directory.open(dir.path)
        let written = try pipeline.writeMaps(result.maps, stem: Array("x".utf8), into: folder)
        #expect(written == [dir.file("x.c.fm00.png"), dir.file("x.c.npy")])
        #expect(try dir.listing() == ["x.c.fm00.png", "x.c.npy"])
        let back = try PNGCodec.decodeFile(dir.file("x.c.fm00.png"), options: DecodeOptions(scale: .raw))
        #expect(back.scalars == [0, 32768, 65535, 16384])
    }

    @Test("the stem drops only an exact .png ending")
    func stems() {
        func stem(_ s: String) -> String { String(decoding: ImagePipeline.stem(ofName: Array(s.utf8)), as: UTF8.self) }
        #expect(stem("a.png") == "a")
        #expect(stem("a.PNG") == "a.PNG")
        #expect(stem("a.b.png") == "a.b")
        #expect(stem(".png") == ".png")
        #expect(stem("png") == "png")
    }

    @Test("the default job budget shares what the limit leaves after the reserve and the models")
    func budget() {
        let mib = 1 << 20
        #expect(MemoryBudget.defaultJobBytes(workers: 2, limit: 2048 * mib) == (2048 * mib - MemoryBudget.reserve) / 2)
        #expect(MemoryBudget.defaultJobBytes(workers: 2, resident: 100 * mib, limit: 2048 * mib)
                == (1948 * mib - MemoryBudget.reserve) / 2)
        #expect(MemoryBudget.defaultJobBytes(workers: 64, limit: 256 * mib) == MemoryBudget.floor)
        #expect(MemoryBudget.processLimit() <= MemoryBudget.physicalMemory())
    }
}
