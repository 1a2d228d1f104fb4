// What a hostile PNG may cost in memory, measured on the real binary (peak RSS from wait4):
// libpng's 57-byte crashers took 1.07 GB each (audit #26) and 60 zTXt chunks 497 MB (#3).
import ConvdTestSupport
import Foundation
import Testing

@Suite("PNG bombs, end to end")
struct PNGMemoryTests {
    /// Far below the ≥ 1 GB these files cost before; `convd filter` alone takes ≈ 30 MB.
    static let boundKiB = 96 * 1024

    @Test("convd filter on 57-byte files declaring 1 GiB chunks: one line per file, bounded memory")
    func crashers() throws {
        let dir = TemporaryDirectory()
        let types = ["tEXt", "zTXt", "iTXt", "sPLT", "pCAL"]
        let inputs = try types.map { try dir.write("huge_\($0)_chunk.png", PNGBombs.hugeDeclaredLength($0)) }
        let result = try ConvdBinary.runMeasured(["filter", "--chain", "gray", "-o", dir.file("out")] + inputs)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.peakKiB < Self.boundKiB, "peak RSS \(result.peakKiB) KiB")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == types.count, "\(result.stderr)")
        for input in inputs {
            #expect(lines.contains("\(input): truncated (file ends before the image data does)"), "\(result.stderr)")
        }
    }

    @Test("convd filter on an image carrying 60 zTXt and 20 iCCP bombs: processed, bounded memory")
    func inflateBombs() throws {
        let dir = TemporaryDirectory()
        var generator = SeededGenerator(seed: 5)
        var png = try PNGFixture.random(width: 8, height: 8, colorType: .gray, bitDepth: 8, using: &generator).encoded()
        png = PNGBombs.inserting(PNGBombs.zTXt(inflated: 7_900_000), count: 60, into: png)
        png = PNGBombs.inserting(PNGBombs.iCCP(inflated: 7_900_000), count: 20, into: png)
        let input = try dir.write("bomb.png", png)
        let result = try ConvdBinary.runMeasured(["filter", "--chain", "gray", "-o", dir.file("out"), "--format", "npy",
                                                  input])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.peakKiB < Self.boundKiB, "peak RSS \(result.peakKiB) KiB")
        #expect(try dir.listing("out") == ["bomb.chain.npy"])
    }
}
