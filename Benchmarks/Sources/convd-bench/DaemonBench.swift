// `convd-bench daemon`: the real `convd run` (release build) on temporary folders.
// 1. 2,000 Fashion-MNIST test images (28×28) renamed into a classification watch at once:
//    files/s and latency from each rename to its classification log line (p50, p99); then
//    the same at 500 files/s, so latency is measured without a queue in front of it.
// 2. 200 RGB 1024×1024 images through a 2-map edge chain, PNG outputs at zlib level 1 and 6.
// Each scenario runs `runs` times on fresh folders; medians are reported, with the daemon's
// peak RSS (VmHWM). `daemon-burst N`: N tiny PNGs at once through a chain watch, for the
// memory bound (pending work lives in the ledger, not in memory).
import ConvdData
import ConvdImage
import ConvdNet
import Foundation

struct DaemonRun {
    var seconds: Double
    var filesPerSecond: Double
    var p50: Double
    var p99: Double
    var peakRSSMB: Double
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let s = values.sorted()
    return s.isEmpty ? 0 : s[min(s.count - 1, Int((p * Double(s.count)).rounded(.up)) - 1)]
}

private func wallMilliseconds() -> Double { Date().timeIntervalSince1970 * 1000 }

/// Trees of finished runs, removed at the very end: on ext4, creating files right after
/// thousands were deleted is several times slower, which would penalise every later run.
nonisolated(unsafe) private var finishedTrees: [String] = []

/// One daemon run: start, drop `images` by rename (every `interval` seconds, or all at once),
/// wait for every log line, stop.
private func runDaemon(binary: String, config: (String) -> String, images: [[UInt8]],
                       interval: Double = 0, base: String = NSTemporaryDirectory(),
                       pollMicroseconds: useconds_t = 200) throws -> DaemonRun {
    let root = (base.hasSuffix("/") ? base : base + "/") + "convd-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fm = FileManager.default
    for folder in ["in", "out", "state", "log", "staging"] {
        try fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
    }
    defer { finishedTrees.append(root) }
    try Data(config(root).utf8).write(to: URL(fileURLWithPath: "\(root)/convd.toml"))
    for (i, bytes) in images.enumerated() { try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/staging/i\(i).png")) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = ["run", "--config", "\(root)/convd.toml"]
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
    // Ready when the status file says so.
    while true {
        if let data = fm.contents(atPath: "\(root)/state/status.json"),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           object["state"] as? String == "running" { break }
        usleep(5000)
    }
    // Drop on another thread while this one tails the log.
    let dropped = UnsafeMutableBufferPointer<Double>.allocate(capacity: images.count)
    defer { dropped.deallocate() }
    let start = wallMilliseconds()
    let dropsDone = DispatchSemaphore(value: 0)
    let count = images.count
    nonisolated(unsafe) let times = dropped
    Thread.detachNewThread {
        for i in 0..<count {
            if interval > 0 {
                let wait = start + Double(i) * interval * 1000 - wallMilliseconds()
                if wait > 0 { usleep(useconds_t(wait * 1000)) }
            }
            times[i] = wallMilliseconds()
            rename("\(root)/staging/i\(i).png", "\(root)/in/i\(i).png")
        }
        dropsDone.signal()
    }
    // Tail the log: note when each file's line appears.
    var arrived = [Double](repeating: 0, count: images.count)
    var seen = 0
    var offset: UInt64 = 0
    var pending = ""
    let log = "\(root)/log/classifications.jsonl"
    while seen < images.count {
        if let handle = FileHandle(forReadingAtPath: log) {
            handle.seek(toFileOffset: offset)
            let data = handle.readDataToEndOfFile()
            try? handle.close()
            offset += UInt64(data.count)
            pending += String(decoding: data, as: UTF8.self)
            let now = wallMilliseconds()
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                if let range = line.range(of: "/in/i"), let end = line[range.upperBound...].firstIndex(of: "."),
                   let index = Int(line[range.upperBound..<end]) {
                    arrived[index] = now
                    seen += 1
                }
            }
        }
        usleep(pollMicroseconds)
    }
    dropsDone.wait()
    let end = arrived.max() ?? start
    let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
    let hwm = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        .flatMap { Double($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    process.terminate()
    process.waitUntilExit()
    let latencies = images.indices.map { arrived[$0] - dropped[$0] }
    return DaemonRun(seconds: (end - start) / 1000, filesPerSecond: Double(images.count) / ((end - start) / 1000), p50: percentile(latencies, 0.5),
                     p99: percentile(latencies, 0.99), peakRSSMB: hwm / 1024)
}

private func reportRuns(_ name: String, _ extra: [(String, String)], _ runs: [DaemonRun]) {
    report([("bench", quoted(name))] + extra + [
        ("runs", String(runs.count)),
        ("files_per_s_median", format(median(runs.map(\.filesPerSecond)))),
        ("latency_p50_ms_median", format(median(runs.map(\.p50)))),
        ("latency_p99_ms_median", format(median(runs.map(\.p99)))),
        ("peak_rss_mb_median", format(median(runs.map(\.peakRSSMB)))),
    ], (0, 0, 0), timed: false)
}

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
private let binary = ProcessInfo.processInfo.environment["CONVD_BINARY"] ?? "\(repository)/.build/release/convd"
private func header(_ root: String) -> String {
    """
    [daemon]
    workers = 2
    state_dir = "\(root)/state"
    classification_log = "\(root)/log/classifications.jsonl"
    log_level = "warning"
    rescan_interval = 0
    """
}

/// `count` tiny PNGs in one burst through a chain watch: throughput, latency and peak RSS.
func runDaemonBurst(count: Int) {
    defer { removeFinishedTrees() }
    do {
        let image = try PNGCodec.encode([UInt8](repeating: 128, count: 64), width: 8, height: 8, channels: 1)
        let run = try runDaemon(binary: binary, config: { root in header(root) + """

            [chains]
            gray = "gray"

            [[watch]]
            name = "burst"
            input = "\(root)/in"
            output = "\(root)/out"
            chain = "gray"
            formats = ["npy"]
            """ }, images: Array(repeating: image, count: count))
        reportRuns("daemon_burst", [("files", String(count)), ("size", "8")], [run])
    } catch {
        print("{\"error\":\(quoted("\(error)"))}")
    }
}

private func removeFinishedTrees() {
    for tree in finishedTrees { try? FileManager.default.removeItem(atPath: tree) }
    finishedTrees.removeAll()
}

/// One run of the classification scenario (`convd-bench sample daemon`): `images` renamed at
/// once into a watch classified with the shipped model; its tree stays below `workdir`, which
/// the caller removes. The log is polled every millisecond, as anchors/hotfolder_sample.py
/// polls the Python hot folder's.
func runDaemonClassifyOnce(images: [[UInt8]], workdir: String) throws -> DaemonRun {
    try runDaemon(binary: binary, config: classifyConfig, images: images, base: workdir, pollMicroseconds: 1000)
}

private func classifyConfig(_ root: String) -> String {
    header(root) + """

    [models.fashion]
    path = "\(repository)/samples/models/fashion-mnist.safetensors"

    [[watch]]
    name = "fashion"
    input = "\(root)/in"
    output = "\(root)/out"
    model = "fashion"
    """
}

func runDaemonBenchmarks(runs: Int) {
    defer { removeFinishedTrees() }
    do {
        let test = try DatasetLoader.load("/usr/share/datasets/fashion-mnist", split: .test, shape: Preset.input,
                                          limit: 2000)
        let small = try (0..<test.count).map { i in
            try PNGCodec.encode(test.pixels[(i * 784)..<((i + 1) * 784)].map { UInt8(($0 * 255).rounded()) },
                                width: 28, height: 28, channels: 1, level: 6)
        }
        let classify = (0..<runs).compactMap { _ in try? runDaemon(binary: binary, config: classifyConfig, images: small) }
        reportRuns("daemon_classify", [("files", "2000"), ("size", "28"), ("dropped", quoted("at once"))], classify)
        // The same files at 500/s, below capacity: latency without a queue in front.
        let paced = (0..<runs).compactMap { _ in
            try? runDaemon(binary: binary, config: classifyConfig, images: small, interval: 0.002)
        }
        reportRuns("daemon_classify", [("files", "2000"), ("size", "28"), ("dropped", quoted("500/s"))], paced)
        var generator = SystemRandomNumberGenerator()
        let side = 1024
        let large = try (0..<200).map { _ -> [UInt8] in
            let phase = Double.random(in: 0...100, using: &generator)
            var samples = [UInt8](repeating: 0, count: side * side * 3)
            for y in 0..<side {
                for x in 0..<side {
                    for c in 0..<3 {
                        let v = 128 + 90 * sin((Double(x) + phase) / (30 + Double(c) * 7)) * cos(Double(y) / 45)
                        samples[(y * side + x) * 3 + c] = UInt8(max(0, min(255, v + Double.random(in: 0...8, using: &generator))))
                    }
                }
            }
            return try PNGCodec.encode(samples, width: side, height: side, channels: 3, level: 1)
        }
        for level in [1, 6] {
            let edges = (0..<runs).compactMap { _ in
                try? runDaemon(binary: binary, config: { root in header(root) + """

                    [chains]
                    edges = "gray | conv(sobel-x, sobel-y; padding=same)"

                    [[watch]]
                    name = "edges"
                    input = "\(root)/in"
                    output = "\(root)/out"
                    chain = "edges"
                    formats = ["png"]
                    png_compression = \(level)
                    """ }, images: large)
            }
            reportRuns("daemon_edges", [("files", "200"), ("size", "1024"), ("png_level", String(level))], edges)
        }
    } catch {
        print("{\"error\":\(quoted("\(error)"))}")
    }
}
