// `convd filter`: run a chain over PNG files and write the feature maps.
import ArgumentParser
import ConvdCore
import ConvdImage
import ConvdPipeline
import ConvdSystem

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Run a filter chain over PNG files and write the feature maps.",
        discussion: """
            Outputs for IN = photo.png and chain name NAME, in the output folder:
              photo.NAME.fm00.png ...  one picture per map (8-bit; 16-bit: png16)
              photo.NAME.montage.png   all maps in a grid, in order
              photo.NAME.npy           exact float32 values, C×H×W (NumPy 1.0)
            Each file is written under a temporary name, then renamed.

            Steps (separated by "|"):
              gray, rgb          to 1 luma (BT.601) or 3 colour channels
              conv(K, ...; padding=same|valid|N, border=zero|replicate|reflect,
                   stride=S, dilation=D, mode=per_channel|sum, flip=true|false)
                                 correlate with each kernel K; defaults: same,
                                 zero, 1, 1, per_channel, false (flip=true:
                                 true convolution)
              K                  a named kernel (convd kernels), gaussian(n,
                                 sigma), box(n), a matrix [[1,0],[0,-1]], or
                                 one slice per channel [[[..]],[[..]],[[..]]]
                                 (summed); a kernel alone is a step too
              magnitude          sqrt of the sum of squares across maps
              relu, leaky_relu(a), sigmoid, tanh, abs
              maxpool(w[, s]; padding=), avgpool(w[, s]; padding=)
              global_maxpool, global_avgpool
              conv1x1(w1, w2, ...)         weighted sum across channels
              normalize(minmax|abs|clip)   rescale each map to 0..1

            A file that fails is reported on stderr as one line "FILE: reason"
            and the others are still processed; the exit status is then 1. A
            bad chain exits with status 2 before any file is read. Before a
            file is decoded, its size, its pixel count (50,000,000 at most)
            and the memory its job needs at the peak (from the chain's
            shapes) are checked; a job over --max-job-bytes fails without
            allocating. The stem drops only a ".png" ending, so a.png and
            a.PNG get distinct outputs.
            """
    )

    @Argument(help: "PNG files to filter.")
    var inputs: [String]

    @Option(name: .long, help: "The chain: inline text, or a .chain file (its name becomes the chain name).")
    var chain: String

    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var output: String

    @Option(name: .long, help: "Comma-separated outputs: png, png16, npy, montage.")
    var format: String = "png,npy"

    @Option(name: .long, help: "The chain name in output file names (default: the .chain file's name, else 'chain').")
    var name: String?

    @Option(name: .long, help: "Sample scaling: unit (0..1) or raw (the file's integer samples).")
    var scale: SampleScale = .unit

    @Option(name: .long, help: "How maps are rescaled for PNG output: minmax, abs or clip.")
    var normalize: Normalization = .minmax

    @Option(name: .long, help: "zlib level of the PNGs written, 0-9.")
    var compression: Int = 6

    @Option(name: .long, help: "Threads for the convolutions (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("The most memory one image's job may take, in bytes (default: the memory "
                                            + "this process may use, less a reserve).", valueName: "bytes"))
    var maxJobBytes: Int?

    func validate() throws {
        guard (0...9).contains(compression) else { throw ValidationError("--compression must be 0-9") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxJobBytes, maxJobBytes < 1 { throw ValidationError("--max-job-bytes must be at least 1") }
        if let name, !ChainSpec.isValidName(name) {
            throw ValidationError("--name may hold only letters, digits, '_' and '-'")
        }
    }

    func run() throws {
        let spec: ChainSpec
        let formats: OutputFormats
        do {
            spec = try ChainSpec.load(chain, name: name)
            formats = try OutputFormats.parse(format).get()
        } catch {
            printError("convd: \(error)")
            throw ExitCode(2)
        }
        let folder: Directory
        do {
            try FileIO.makeDirectories(output)
            folder = try Directory.open(output)
        } catch {
            printError("convd: \(DisplayText.escaped(error.description))")
            throw ExitCode(2)
        }
        let pipeline = ImagePipeline(
            chain: spec,
            output: FeatureMapOutput(chainName: spec.name, formats: formats,
                                     renderer: FeatureMapRenderer(normalization: normalize, compressionLevel: compression)),
            decode: DecodeOptions(scale: scale), maxJobBytes: maxJobBytes ?? MemoryBudget.defaultJobBytes(workers: 1),
            threads: threads ?? onlineCoreCount)
        var failures = 0
        var stems: [[UInt8]: String] = [:]
        for input in inputs {
            let stem = ImagePipeline.stem(ofName: Array((input.split(separator: "/").last ?? "").utf8))
            if let earlier = stems[stem] {
                printError(DisplayText.escaped("\(input): its outputs would overwrite those of \(earlier) (same file name)"))
                failures += 1
                continue
            }
            stems[stem] = input
            do {
                let bytes = try FileIO.readAll(input, limit: pipeline.decode.limits.maxFileBytes)
                let result = try pipeline.run(bytes, path: input)
                _ = try pipeline.writeMaps(result.maps, stem: stem, into: folder)
            } catch {
                printError(DisplayText.escaped("\(error)"))
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

extension SampleScale: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}
