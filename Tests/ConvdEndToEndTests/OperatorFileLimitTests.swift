// Hostile operator files through the binary (security audit #13-15): crafted models and
// architectures for `convd inspect`, deep or huge chains for `convd filter --chain`, both in a
// config for `convd check-config`. Each exits with its error status and one line per problem,
// naming the file and the reason, never with a crash signal.
import ConvdTestSupport
import Foundation
import Testing

/// `result` is a clean failure with `status` and exactly one stderr line containing each of `parts`.
private func expectOneLine(_ result: ProcessResult, status: Int32, _ parts: [String],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == status, "\(result.stderr)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 2 && lines[1].isEmpty, "\(result.stderr)", sourceLocation: sourceLocation)
    for part in parts { #expect(result.stderr.contains(part), "\(result.stderr)", sourceLocation: sourceLocation) }
}

@Suite("operator file limits, end to end")
struct OperatorFileLimitTests {
    @Test("convd inspect/classify: overflowing data_offsets, filters = 999999999, a NaN weight, size = 999999999")
    func inspect() throws {
        let dir = TemporaryDirectory()
        let good = try DaemonFixtures.sample("samples/models/fashion-mnist.safetensors")
        let offsets = try dir.write("offsets.safetensors", SafetensorsSurgery.overflowingOffsets(good))
        expectOneLine(try ConvdBinary.run(["inspect", offsets]), status: 1,
                      ["convd: \(offsets): tensor \"layers.0.weight\" data_offsets [\(Int.max - 1152), \(Int.max)] "
                       + "are not an ordered range inside"])
        let filters = try dir.write("filters.safetensors",
                                    SafetensorsSurgery.editingLayer(good, type: "conv2d", key: "filters", value: 999_999_999))
        expectOneLine(try ConvdBinary.run(["inspect", filters]), status: 1,
                      ["convd: \(filters): bad architecture: layer 1: ", "999999999 filters exceed the limit of 65536"])
        var nan = good
        let start = 8 + (try SafetensorsSurgery.header(of: good)).length
        nan.replaceSubrange(start..<(start + 4), with: [0x00, 0x00, 0xc0, 0x7f])
        let nanModel = try dir.write("nan.safetensors", nan)
        expectOneLine(try ConvdBinary.run(["classify", "--model", nanModel, DaemonFixtures.repository
                                            + "/samples/images/fashion-sneaker.png", "--json"]), status: 1,
                      ["convd: \(nanModel): tensor \"layers.0.weight\" value 0 is nan, not a finite number"])
        let toml = try dir.write("huge.toml", Array("""
            [input]
            width = 28
            height = 28
            [[layer]]
            type = "conv2d"
            filters = 8
            size = 999999999
            [[layer]]
            type = "global_avgpool"
            """.utf8))
        expectOneLine(try ConvdBinary.run(["inspect", toml]), status: 1,
                      ["convd: \(toml): layer 1: conv2d 8×999999999×999999999: size 999999999 exceeds the limit of 1025"])
        let wide = try dir.write("wide.toml", Array("[input]\nwidth = 3037000500\nheight = 3037000500\n[[layer]]\ntype = \"dense\"\nunits = 10\n".utf8))
        expectOneLine(try ConvdBinary.run(["inspect", wide]), status: 1,
                      ["convd: \(wide): input height 3037000500 exceeds the limit of 65536"])
    }

    @Test("convd filter --chain: 100,000 nested brackets in a .chain file, box(65536), gaussian(65536, 1), padding=65536")
    func filter() throws {
        let dir = TemporaryDirectory()
        let image = DaemonFixtures.repository + "/samples/images/shapes.png"
        let deep = try dir.write("deep.chain", Array(("conv(" + String(repeating: "[", count: 100_000)).utf8))
        expectOneLine(try ConvdBinary.run(["filter", image, "--chain", deep, "-o", dir.file("out")]), status: 2,
                      ["\(deep): step 1 \"conv([[[", "parentheses and brackets nest more than 64 levels deep"])
        for (chain, message) in [
            ("box(65536)", "box size must be a whole number from 1 to 1025, got 65536"),
            ("gray | gaussian(65536, 1)", "gaussian size must be a whole number from 1 to 1025, got 65536"),
            ("sobel-x(padding=65536)", "padding 65536 is over the limit of 1024 pixels"),
        ] {
            expectOneLine(try ConvdBinary.run(["filter", image, "--chain", chain, "-o", dir.file("out")]), status: 2,
                          [message])
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/shapes.chain.npy")))
    }

    @Test("convd check-config: a crafted model and a 100,000-deep chain are one line each, naming the key path")
    func checkConfig() throws {
        let good = try DaemonFixtures.sample("samples/models/fashion-mnist.safetensors")
        let d = try DaemonHarness(config: DaemonFixtures.modelConfig(modelPath: "@ROOT@/model.safetensors"))
        try d.write("model.safetensors", SafetensorsSurgery.overflowingOffsets(good))
        expectOneLine(try ConvdBinary.run(["check-config", "--config", d.configPath]), status: 1,
                      ["\(d.configPath): models.fashion.path: \(d.path("model.safetensors")): tensor \"layers.0.weight\" "
                       + "data_offsets"])
        try d.write("model.safetensors", good)
        try d.setConfig(DaemonFixtures.chainConfig().replacingOccurrences(
            of: "gray = \"gray\"", with: "gray = \"conv(" + String(repeating: "[", count: 100_000) + "\""))
        expectOneLine(try ConvdBinary.run(["check-config", "--config", d.configPath]), status: 1,
                      ["\(d.configPath): chains.gray: step 1 \"conv([[[", "nest more than 64 levels deep"])
    }
}
