// convd-bench: `filters` times direct correlation on a 4096×4096 float32 image (kernels 3, 5,
// 11; zero padding `same`; 1 and 2 threads) and PNG decode/encode of 2048×2048 gray and RGB at
// zlib levels 1 and 6; `cnn` (CNNBench.swift) times training and inference; `daemon`
// (DaemonBench.swift) runs the real daemon on temporary folders; `sample` (Sample.swift) runs
// one measured sample of one workload for Benchmarks/compare.py; `cluster` (ClusterBench.swift)
// runs 1–3 daemons over one PostgreSQL ledger beside one on SQLite. One JSON object per line.
import ConvdCore
import ConvdImage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

useSingleThreadedGEMM()  // as convd does at start: no idle OpenBLAS threads beside the measured ones
let arguments = CommandLine.arguments.dropFirst()
let suite = arguments.first ?? "filters"
let runs = Int(arguments.dropFirst().first ?? "") ?? 11

switch suite {
case "filters": break
case "cnn":
    runCNNBenchmarks(runs: Int(arguments.dropFirst().first ?? "") ?? 3)
    exit(0)
case "daemon":
    runDaemonBenchmarks(runs: Int(arguments.dropFirst().first ?? "") ?? 3)
    exit(0)
case "ledger":
    runLedgerBenchmarks(rows: Int(arguments.dropFirst().first ?? "") ?? 1_000_000)
    exit(0)
case "sample":
    runSample(arguments.dropFirst())
    exit(0)
case "cluster":
    runClusterBenchmarks(files: Int(arguments.dropFirst().first ?? "") ?? 10_000,
                         runs: Int(arguments.dropFirst(2).first ?? "") ?? 3)
    exit(0)
case "daemon-burst":
    runDaemonBurst(count: Int(arguments.dropFirst().first ?? "") ?? 100_000)
    exit(0)
default:
    print("usage: convd-bench filters|cnn|daemon [RUNS] | daemon-burst [FILES] | cluster [FILES] [RUNS] | ledger [ROWS] "
          + "| sample WORKLOAD ...")
    exit(2)
}

print("{\"isa\":\"\(directKernelInstructionSet)\",\"runs\":\(runs)}")

var generator = SystemRandomNumberGenerator()
let size = 4096
let image = Tensor(channels: 1, height: size, width: size,
                   scalars: (0..<(size * size)).map { _ in Float.random(in: 0...1, using: &generator) })
for k in [3, 5, 11] {
    let kernel = Kernel(height: k, width: k, weights: (0..<(k * k)).map { _ in Float.random(in: -1...1) })
    let conv = Convolution(kernels: [kernel], padding: .same, border: .zero)
    for threads in [1, 2] {
        // As cv::filter2D(src, dst) in a loop: the output buffer is reused.
        var output = conv.apply(image, threads: threads)
        let t = measure(runs: runs) { conv.apply(image, into: &output, path: .direct, threads: threads) }
        report([("bench", quoted("correlate")), ("kernel", String(k)), ("size", String(size)),
                ("threads", String(threads))], t)
        // The allocating form, as the filter chain calls it (fresh pages for every output).
        let fresh = measure(runs: max(3, runs / 3)) { _ = conv.apply(image, path: .direct, threads: threads) }
        report([("bench", quoted("correlate_alloc")), ("kernel", String(k)), ("size", String(size)),
                ("threads", String(threads))], fresh)
    }
}

let side = 2048
for (name, channels) in [("gray", 1), ("rgb", 3)] {
    // A smooth picture with noise: compresses like a photograph, not like a flat fill.
    var samples = [UInt8](repeating: 0, count: side * side * channels)
    for y in 0..<side {
        for x in 0..<side {
            for c in 0..<channels {
                let wave: Double = 40 * sin(Double(x + 3 * y) / 50)
                let smooth: Int = (x * (c + 1) + y * 2) / 16 + Int(wave)
                samples[(y * side + x) * channels + c] = UInt8(truncatingIfNeeded: smooth + Int.random(in: 0...12))
            }
        }
    }
    for level in [1, 6] {
        var png: [UInt8] = []
        let encode = measure(runs: runs) {
            png = (try? PNGCodec.encode(samples, width: side, height: side, channels: channels, level: level)) ?? []
        }
        report([("bench", quoted("png_encode")), ("image", quoted(name)), ("size", String(side)),
                ("level", String(level)), ("bytes", String(png.count))], encode)
        let decode = measure(runs: runs) { _ = try? PNGCodec.decode(png, path: "bench.png") }
        report([("bench", quoted("png_decode")), ("image", quoted(name)), ("size", String(side)),
                ("level", String(level)), ("bytes", String(png.count))], decode)
    }
}
