// Architecture files: the shipped one parses to its layers; every class of mistake gives a
// message naming the file and the layer or key (syntax errors: line and column).
import ConvdConfig
import ConvdNet
import Foundation
import Testing

private func error(_ text: String) -> String? {
    do {
        _ = try ArchitectureFile.parse(text, path: "a.toml")
        return nil
    } catch {
        return error.description
    }
}

private let header = "[input]\nwidth = 28\nheight = 28\nchannels = 1\n"

@Suite("architecture files")
struct ArchitectureFileTests {
    @Test("samples/models/fashion.toml: shapes inferred, under 100,000 parameters")
    func shipped() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/models/fashion.toml").path
        let architecture = try ArchitectureFile.parse(String(contentsOfFile: path, encoding: .utf8), path: path)
        #expect(architecture.name == "fashion")
        let network = try Network(input: architecture.input, nodes: architecture.layers)
        #expect(network.parameterCount < 100_000)
        #expect(network.outputCount == 10)
    }

    @Test("a small file with every default")
    func minimal() throws {
        let a = try ArchitectureFile.parse(header + """
            [[layer]]
            type = "conv2d"
            filters = 4
            size = 3
            [[layer]]
            type = "maxpool"
            size = 2
            [[layer]]
            type = "dense"
            units = 10
            """, path: "dir/tiny.toml")
        #expect(a.name == "tiny")
        #expect(a.layers.map(\.spec) == [.conv2d(filters: 4, size: 3, stride: 1, padding: 0, dilation: 1, bias: true),
                                          .maxpool(size: 2, stride: 2), .dense(units: 10)])
        #expect(a.layers.allSatisfy { $0.name == nil && $0.inputs.isEmpty })
    }

    @Test("a graph: names, inputs lists, add and concat, grouped convolution")
    func graph() throws {
        let a = try ArchitectureFile.parse(header + """
            [[layer]]
            name = "stem"
            type = "conv2d"
            filters = 4
            size = 3
            padding = 1
            [[layer]]
            name = "dw"
            type = "conv2d"
            filters = 4
            size = 3
            padding = 1
            groups = 4
            [[layer]]
            name = "sum"
            type = "add"
            inputs = ["stem", "dw"]
            [[layer]]
            type = "concat"
            inputs = ["sum", "input"]
            [[layer]]
            type = "global_maxpool"
            [[layer]]
            type = "dense"
            units = 10
            """, path: "g.toml")
        #expect(a.layers.map(\.name) == ["stem", "dw", "sum", nil, nil, nil])
        #expect(a.layers.map(\.inputs) == [[], [], ["stem", "dw"], ["sum", "input"], [], []])
        #expect(a.layers[1].spec == .groupedConv2d(filters: 4, size: 3, stride: 1, padding: 1, dilation: 1, bias: true,
                                                   groups: 4))
        let network = try Network(input: a.input, nodes: a.layers)
        #expect(network.layers[3].outputShape == SampleShape(channels: 5, height: 28, width: 28))
        for (bad, reason) in [
            ("inputs = [\"stem\", 3]", "layer 2: inputs must be a list of layer names"),
            ("inputs = [\"stem\", \"nothing\"]", "layer 2: add: input \"nothing\" names no layer (inputs are layer names or \"input\")"),
        ] {
            let text = header + """
                [[layer]]
                name = "stem"
                type = "conv2d"
                filters = 1
                size = 1
                [[layer]]
                type = "add"
                """ + "\n" + bad + "\n" + """
                [[layer]]
                type = "global_avgpool"
                """
            #expect(throws: ArchitectureFileError.self) { try ArchitectureFile.parse(text, path: "g.toml") }
            do {
                _ = try ArchitectureFile.parse(text, path: "g.toml")
            } catch {
                #expect(error.description == "g.toml: \(reason)")
            }
        }
    }

    @Test("absurd sizes are limit errors naming the layer, not overflow traps or huge allocations (audit #14d)")
    func limits() {
        let tail = "[[layer]]\ntype = \"global_avgpool\"\n"
        #expect(error(header + "[[layer]]\ntype = \"conv2d\"\nfilters = 4\nsize = 999999999\n" + tail)
                == "a.toml: layer 1: conv2d 4×999999999×999999999: size 999999999 exceeds the limit of 1025")
        #expect(error(header + "[[layer]]\ntype = \"conv2d\"\nfilters = 999999999\nsize = 3\n" + tail)
                == "a.toml: layer 1: conv2d 999999999×3×3: 999999999 filters exceed the limit of 65536")
        #expect(error("[input]\nwidth = 3037000500\nheight = 28\n[[layer]]\ntype = \"dense\"\nunits = 10\n")
                == "a.toml: input width 3037000500 exceeds the limit of 65536")
    }

    @Test("mistakes name the file, the layer and the key")
    func mistakes() {
        #expect(error(header + "[[layer]]\ntype = \"conv2\"\n")?.hasPrefix(
            "a.toml: layer 1: unknown layer type \"conv2\" (known: add, avgpool, ") == true)
        #expect(error(header + "[[layer]]\ntype = \"dense\"\nunits = 10\nactivation = \"relu\"\n")
                == "a.toml: layer 1: dense: unknown key \"activation\" (keys: units, name, inputs)")
        #expect(error(header + "[[layer]]\ntype = \"dense\"\n") == "a.toml: layer 1: dense: missing units")
        #expect(error(header + "[[layer]]\ntype = \"dense\"\nunits = \"ten\"\n")
                == "a.toml: layer 1: dense: units must be a whole number")
        #expect(error(header + "[[layer]]\ntype = \"maxpool\"\nsize = 64\n[[layer]]\ntype = \"dense\"\nunits = 2\n")
                == "a.toml: layer 1: maxpool 64×64: input 1×28×28 shrinks to 1×0×0")
        #expect(error("[[layer]]\ntype = \"relu\"\n") == "a.toml: missing [input] table (width, height, channels)")
        #expect(error(header) == "a.toml: no [[layer]] tables")
        #expect(error("layers = 3\n" + header) == "a.toml: unknown key \"layers\" (keys: name, input, layer)")
        #expect(error("[input]\nwidth = 28\nheight = 28\nchannels = 2\n") == "a.toml: input: channels must be 1 or 3")
        #expect(error("[input\nwidth = 1\n")?.hasPrefix("a.toml: line 1, column ") == true)
    }

    @Test("residual_block: a basic block, identity or projection shortcut, repeated, named or numbered")
    func residualBlocks() throws {
        let a = try ArchitectureFile.parse(header + """
            [[layer]]
            type = "conv2d"
            filters = 8
            size = 3
            padding = 1
            [[layer]]
            type = "residual_block"
            filters = 8
            [[layer]]
            name = "stage"
            type = "residual_block"
            filters = 16
            stride = 2
            repeat = 2
            [[layer]]
            type = "global_avgpool"
            [[layer]]
            type = "dense"
            units = 10
            """, path: "r.toml")
        // block1 (identity): 7 layers; stage_1 (projection): 9; stage (identity): 7.
        #expect(a.layers.count == 1 + 7 + 9 + 7 + 2)
        #expect(a.layers[0].name == "block1_in", "the unnamed layer above a block gets a name to be read by")
        #expect(a.layers.compactMap(\.name) == ["block1_in", "block1_conv1", "block1_main", "block1",
                                                "stage_1_conv1", "stage_1_main", "stage_1_shortcut", "stage_1",
                                                "stage_conv1", "stage_main", "stage"])
        #expect(a.layers[6].inputs == ["block1_in", "block1_main"])
        #expect(a.layers[8].spec == .conv2d(filters: 16, size: 3, stride: 2, padding: 1, dilation: 1, bias: false))
        #expect(a.layers[13].spec == .conv2d(filters: 16, size: 1, stride: 2, padding: 0, dilation: 1, bias: false))
        #expect(a.layers[15].inputs == ["stage_1_shortcut", "stage_1_main"])
        #expect(a.layers[17].spec == .conv2d(filters: 16, size: 3, stride: 1, padding: 1, dilation: 1, bias: false),
                "only the first of the repeated blocks strides")
        let network = try Network(input: a.input, nodes: a.layers)
        #expect(network.layers[a.layers.firstIndex { $0.name == "stage" }!].outputShape
                == SampleShape(channels: 16, height: 14, width: 14))

        func error(_ block: String) -> String {
            do {
                _ = try ArchitectureFile.parse(header + "[[layer]]\ntype = \"residual_block\"\n" + block
                                               + "\n[[layer]]\ntype = \"global_avgpool\"\n", path: "r.toml")
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(error("filters = 4\nsize = 3") == "r.toml: layer 1: residual_block: unknown key \"size\" (keys: filters, "
                + "stride, repeat, name, inputs)")
        #expect(error("stride = 2") == "r.toml: layer 1: residual_block: missing filters")
        #expect(error("filters = 4\nrepeat = 0") == "r.toml: layer 1: residual_block: repeat must be a whole number from 1 to 65536")
        #expect(error("filters = 65536") == "r.toml: layer 1 (residual_block, its layer 4): conv2d 65536×3×3, pad 1, "
                + "no bias: the weights would have 38654705664 values, over the limit of 1073741824")
        #expect(error("filters = 4\ninputs = [\"nope\"]")
                == "r.toml: layer 1: residual_block: input \"nope\" names no layer above it")
    }
}
