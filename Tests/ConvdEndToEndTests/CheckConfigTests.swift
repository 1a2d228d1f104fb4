// `convd check-config`: the resolved config for a good file, and one clear line per problem
// (key path, or line and column) for each class of error, exit 1.
import ConvdTestSupport
import Foundation
import Testing

@Suite("check-config")
struct CheckConfigTests {
    private func check(_ config: String, prepare: (DaemonHarness) throws -> Void = { _ in }) throws
        -> (DaemonHarness, ProcessResult) {
        let d = try DaemonHarness(config: config)
        try prepare(d)
        return (d, try ConvdBinary.run(["check-config", "--config", d.configPath]))
    }

    @Test("a good config prints every key resolved, the chain's shapes and the model")
    func good() throws {
        let config = DaemonFixtures.modelConfig() + """

            [chains]
            edges = "gray | conv(sobel-x, sobel-y; padding=same) | magnitude"

            [[watch]]
            name = "edges"
            input = "@ROOT@/edges-in"
            output = "@ROOT@/edges-out"
            chain = "edges"
            """
        let (d, r) = try check(config)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("# \(d.configPath): OK"))
        #expect(r.stdout.contains("input = \"\(d.path("in"))\""))
        #expect(r.stdout.contains("settle_ms = 200"))
        #expect(r.stdout.contains("sync = \"filesystem\""))
        #expect(r.stdout.contains("pattern = \"*.png\""))
        #expect(r.stdout.contains("# chain edges: gray | conv(sobel-x, sobel-y; padding=same) | magnitude"))
        #expect(r.stdout.contains("#   shapes for a 3×512×512 image: 3×512×512 → 1×512×512 → 2×512×512 → 1×512×512"),
                "\(r.stdout)")
        #expect(r.stdout.contains("#   input 28×28×1, 10 labels, 98666 parameters, top 3"), "\(r.stdout)")
        #expect(r.stdout.contains("# will be created: \(d.path("edges-in"))"))
        #expect(!FileManager.default.fileExists(atPath: d.path("edges-in")), "check-config must not create folders")
    }

    @Test("each class of error names its key path", arguments: [
        ("[daemon]\nworkerz = 2\n", "daemon.workerz: unknown key"),
        ("[daemon]\nworkers = \"two\"\n", "daemon.workers: expected an integer, found string"),
        ("[daemon]\nworkers = 2\n[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nchain = \"nope\"\n",
         "watch[1].chain: unknown chain \"nope\" (chains: none)"),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nmodel = \"m\"\n",
         "watch[1].model: unknown model \"m\" (models: none)"),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/in/out\"\nchain = \"g\"\n[chains]\ng = \"gray\"\n",
         "watch[1].output: @ROOT@/in/out is inside the input tree @ROOT@/in"),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nfailed_dir = \"@ROOT@/in/failed\"\nchain = \"g\"\n[chains]\ng = \"gray\"\n",
         "watch[1].failed_dir: @ROOT@/in/failed is inside the input tree @ROOT@/in"),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/no/such/in\"\noutput = \"@ROOT@/out\"\nchain = \"g\"\n[chains]\ng = \"gray\"\n",
         "watch[1].input: @ROOT@/no/such/in is missing and so is its parent @ROOT@/no/such"),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nchain = \"g\"\n[chains]\ng = \"gray | conv(nope)\"\n",
         "chains.g: step 2 \"conv(nope)\": unknown kernel \"nope\""),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nmodel = \"m\"\n[models.m]\npath = \"@ROOT@/m.safetensors\"\n",
         "models.m.path: @ROOT@/m.safetensors"),
        ("[[watch]]\nname = \"a\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nchain = \"g\"\n[[watch]]\nname = \"b\"\ninput = \"@ROOT@/in/sub\"\noutput = \"@ROOT@/out2\"\nchain = \"g\"\n[chains]\ng = \"gray\"\n",
         "watch[1].input: @ROOT@/in overlaps the input @ROOT@/in/sub of watch[2] \"b\""),
        ("[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/out\"\nchain = \"g\"\nafter = \"move\"\n[chains]\ng = \"gray\"\n",
         "watch[1].done_dir: missing: after = \"move\" needs a done_dir"),
        ("[daemon\nworkers = 2\n", "line 1, column"),
    ])
    func errors(config: String, expected: String) throws {
        let (d, r) = try check(config)
        #expect(r.status == 1)
        let wanted = expected.replacingOccurrences(of: "@ROOT@", with: d.root.path)
        #expect(r.stderr.contains(d.configPath + ": " + wanted), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("a chain whose maps do not fit the model's input")
    func chainModelMismatch() throws {
        let config = DaemonFixtures.modelConfig(watchExtra: "chain = \"two\"") + """

            [chains]
            two = "gray | conv(sobel-x, sobel-y; padding=same)"
            """
        let (d, r) = try check(config)
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(d.configPath): watch[1]: chain \"two\" makes 2 maps but model \"fashion\" takes 1 channel(s)"),
                "\(r.stderr)")
    }

    @Test("a .chain file is read from the config's folder, whatever the working folder; a bad one names the key")
    func chainFileBesideConfig() throws {
        let config = DaemonFixtures.chainConfig().replacingOccurrences(of: "gray = \"gray\"", with: "gray = \"edges.chain\"")
        let (d, r) = try check(config) { d in
            try d.root.write("edges.chain", Array("gray   # luma\n| conv(sobel-x)\n".utf8))
        }
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("# chain gray: gray | conv(sobel-x)\n"), "\(r.stdout)")
        try d.root.write("edges.chain", Array("gray | conv(nope)".utf8))
        let bad = try ConvdBinary.run(["check-config", "--config", d.configPath])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("chains.gray: \(d.root.file("edges.chain")): step 2 \"conv(nope)\": unknown kernel"),
                "\(bad.stderr)")
    }

    @Test("an output folder that is a symlink into the input tree is refused (audit #25)")
    func outputThroughSymlink() throws {
        let config = "[[watch]]\nname = \"w\"\ninput = \"@ROOT@/in\"\noutput = \"@ROOT@/link\"\nchain = \"g\"\n"
            + "[chains]\ng = \"gray\"\n"
        let (d, r) = try check(config) { d in
            try FileManager.default.createDirectory(atPath: d.path("in/sub"), withIntermediateDirectories: true)
            #expect(symlink(d.path("in/sub"), d.path("link")) == 0)
        }
        #expect(r.status == 1)
        let real = URL(fileURLWithPath: d.path("in/sub")).resolvingSymlinksInPath().path
        #expect(r.stderr.contains("\(d.configPath): watch[1].output: \(d.path("link")) resolves to \(real), inside the input tree"),
                "\(r.stderr)")
    }
}
