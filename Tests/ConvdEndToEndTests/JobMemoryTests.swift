// Memory per job (audit #5): a 124 KB PNG of 4000×4000 RGBA16 zeros took 401 MB through the
// `edges` chain, so two workers passed the unit's MemoryMax. Each job's peak is now computed
// from the header and the chain's shapes, and a job over max_job_bytes fails before it
// allocates — in `convd filter` and in the daemon alike.
import ConvdImage
import ConvdPipeline
import ConvdTestSupport
import Foundation
import Testing

@Suite("Memory per job, end to end")
struct JobMemoryTests {
    static let edges = "gray | conv(sobel-x, sobel-y; padding=same) | magnitude"

    static func zeros(width: Int, height: Int, colorType: PNGFixture.ColorType = .rgba, bitDepth: Int = 16) throws -> [UInt8] {
        try PNGFixture(width: width, height: height, colorType: colorType, bitDepth: bitDepth,
                       samples: [UInt16](repeating: 0, count: width * height * colorType.samplesPerPixel)).encoded()
    }

    @Test("a job over --max-job-bytes fails at once, names its need, and costs no pixel buffer")
    func refusedBeforeAllocation() throws {
        let dir = TemporaryDirectory()
        let input = try dir.write("big.png", try Self.zeros(width: 4000, height: 4000))
        let result = try ConvdBinary.runMeasured(["filter", "--chain", Self.edges, "-o", dir.file("out"),
                                                  "--max-job-bytes", "\(64 << 20)", input])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("\(input): 4000×4000 needs about "), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("over max_job_bytes (64.0 MiB)\n"), "\(result.stderr)")
        // The float image alone would be 192 MB.
        #expect(result.peakKiB < PNGMemoryTests.boundKiB, "peak RSS \(result.peakKiB) KiB")
        #expect(try dir.listing("out") == [])
    }

    @Test("the estimate bounds what the job really takes, and not by much")
    func estimateBoundsPeak() throws {
        let dir = TemporaryDirectory()
        let small = try dir.write("small.png", try Self.zeros(width: 8, height: 8))
        let png = try Self.zeros(width: 2000, height: 2000)
        let big = try dir.write("big.png", png)
        let arguments = ["filter", "--chain", Self.edges, "--format", "png,npy", "--threads", "1"]
        let baseline = try ConvdBinary.runMeasured(arguments + ["-o", dir.file("small"), small])
        let measured = try ConvdBinary.runMeasured(arguments + ["-o", dir.file("big"), big])
        #expect(baseline.status == 0 && measured.status == 0, "\(measured.stderr)")
        let pipeline = ImagePipeline(chain: try ChainSpec.load(Self.edges),
                                     output: FeatureMapOutput(chainName: "chain", formats: [.png, .npy]),
                                     maxJobBytes: .max)
        let estimate = try pipeline.plan(png, path: big).bytes
        let used = (measured.peakKiB - baseline.peakKiB) * 1024
        #expect(used <= estimate, "used \(used), estimated \(estimate)")
        #expect(estimate <= used * 2, "used \(used), estimated \(estimate)")
    }

    @Test("the daemon fails a job over max_job_bytes with the figure, and serves the next file")
    func daemonRefuses() throws {
        let d = try DaemonHarness(config: DaemonFixtures.chainConfig(daemonExtra: "max_job_bytes = \(16 << 20)"))
        try d.start()
        #expect(d.waitUntilReady(), "\(d.stderr)")
        try d.drop("in/large.png", try Self.zeros(width: 2000, height: 2000, colorType: .gray, bitDepth: 8))
        try d.drop("in/small.png", try DaemonFixtures.png(seed: 2, side: 28))
        #expect(DaemonHarness.poll { d.logLines().count >= 2 }, "\(d.stderr)")
        let large = d.logLines().first { $0["file"] as? String == d.path("in/large.png") }
        #expect(large?["outcome"] as? String == "failed")
        let reason = large?["reason"] as? String ?? ""
        #expect(reason.contains("2000×2000 needs about"), "\(reason)")
        #expect(reason.hasSuffix("over max_job_bytes (16.0 MiB)"), "\(reason)")
        let small = d.logLines().first { $0["file"] as? String == d.path("in/small.png") }
        #expect(small?["outcome"] as? String == "ok")
        #expect(DaemonHarness.poll { FileManager.default.fileExists(atPath: d.path("failed/large.png")) })
        let check = try ConvdBinary.run(["check-config", "--config", d.configPath])
        #expect(check.stdout.contains("\nmax_job_bytes = 16777216  # 16 MiB\n"), "\(check.stdout)")
        d.send(SIGTERM)
        #expect(d.waitForExit() == 0)
    }
}
