// `convd-bench cluster [FILES] [RUNS]`: the real `convd run` (release build) over one input
// tree: one process on the SQLite ledger, then 1, 2 and 3 processes sharing one PostgreSQL
// ledger (a server this benchmark starts: ConvdTestSupport's PostgresServer), FILES tiny PNGs
// renamed in at once through a chain watch. Files/s from the first rename to the last log
// line (in any node's log) and p99 latency from each rename to its line; medians over RUNS.
// The configurations run alternately, run by run, so that they share the machine's state.
import ConvdImage
import ConvdTestSupport
import Foundation

private struct ClusterRun {
    var filesPerSecond: Double
    var p99: Double
}

func runClusterBenchmarks(files: Int, runs: Int) {
    do {
        let server = try PostgresServer()
        let image = try PNGCodec.encode([UInt8](repeating: 128, count: 64), width: 8, height: 8, channels: 1)
        let setups: [(name: String, processes: Int, postgres: Bool)] = [
            ("sqlite", 1, false), ("postgresql", 1, true), ("postgresql", 2, true), ("postgresql", 3, true)]
        var results = [[ClusterRun]](repeating: [], count: setups.count)
        // Every run's tree stays until the end: deleting tens of thousands of files between
        // runs made the next run's file creations slow by a varying amount (ext4 skips
        // recently freed inodes when it allocates), which swamped the differences measured.
        var trees: [TemporaryDirectory] = []
        for _ in 0..<runs {
            for (i, setup) in setups.enumerated() {
                let uri = setup.postgres ? try server.createDatabase() : nil
                trees.append(TemporaryDirectory())
                results[i].append(try clusterRun(processes: setup.processes, ledger: uri, files: files, image: image,
                                                 tree: trees[trees.count - 1]))
            }
        }
        for (i, setup) in setups.enumerated() {
            let runs = results[i]
            report([("bench", quoted("cluster")), ("ledger", quoted(setup.name)), ("processes", String(setup.processes)),
                    ("files", String(files)), ("runs", String(runs.count)),
                    ("files_per_s_median", format(median(runs.map(\.filesPerSecond)))),
                    ("latency_p99_ms_median", format(median(runs.map(\.p99))))], (0, 0, 0), timed: false)
        }
    } catch {
        print("{\"error\":\(quoted("\(error)"))}")
    }
}

/// One run: `processes` daemons on a fresh tree, `files` renamed in, every line awaited.
private func clusterRun(processes: Int, ledger: String?, files: Int, image: [UInt8],
                        tree: TemporaryDirectory) throws -> ClusterRun {
    let fm = FileManager.default
    for folder in ["in", "out", "staging"] { try fm.createDirectory(atPath: tree.file(folder), withIntermediateDirectories: true) }
    for i in 0..<files { try tree.write("staging/i\(i).png", image) }
    var daemons: [Process] = []
    defer {
        for p in daemons where p.isRunning { p.terminate() }
        for p in daemons { p.waitUntilExit() }
    }
    for n in 0..<processes {
        let home = tree.file("node\(n)")
        for folder in ["state", "log"] { try fm.createDirectory(atPath: "\(home)/\(folder)", withIntermediateDirectories: true) }
        let fleet = ledger.map { "ledger = \"\($0)\"\nnode_name = \"node\(n)\"\n" } ?? ""
        try Data("""
            [daemon]
            \(fleet)workers = 2
            state_dir = "\(home)/state"
            classification_log = "\(home)/log/classifications.jsonl"
            log_level = "warning"
            rescan_interval = 0

            [chains]
            gray = "gray"

            [[watch]]
            name = "burst"
            input = "\(tree.file("in"))"
            output = "\(tree.file("out"))"
            chain = "gray"
            formats = ["npy"]
            """.utf8).write(to: URL(fileURLWithPath: "\(home)/convd.toml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: clusterBinary)
        process.arguments = ["run", "--config", "\(home)/convd.toml"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        daemons.append(process)
    }
    for n in 0..<processes {
        while true {
            if let data = fm.contents(atPath: tree.file("node\(n)/state/status.json")),
               let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               object["state"] as? String == "running" { break }
            usleep(5000)
        }
    }
    sync()  // the previous run's and the staging files' writeback does not fall into this one
    var dropped = [Double](repeating: 0, count: files)
    let start = Date().timeIntervalSince1970
    for i in 0..<files {
        dropped[i] = Date().timeIntervalSince1970
        rename(tree.file("staging/i\(i).png"), tree.file("in/i\(i).png"))
    }
    // Tail every node's log; a line's arrival is when the tail first sees it.
    var arrived = [Double](repeating: 0, count: files)
    var offsets = [UInt64](repeating: 0, count: processes)
    var partial = [String](repeating: "", count: processes)
    var seen = 0
    while seen < files {
        for n in 0..<processes {
            guard let handle = FileHandle(forReadingAtPath: tree.file("node\(n)/log/classifications.jsonl")) else { continue }
            handle.seek(toFileOffset: offsets[n])
            let data = handle.readDataToEndOfFile()
            try? handle.close()
            offsets[n] += UInt64(data.count)
            partial[n] += String(decoding: data, as: UTF8.self)
            let now = Date().timeIntervalSince1970
            while let newline = partial[n].firstIndex(of: "\n") {
                let line = partial[n][..<newline]
                partial[n] = String(partial[n][partial[n].index(after: newline)...])
                if let range = line.range(of: "/in/i"), let end = line[range.upperBound...].firstIndex(of: "."),
                   let index = Int(line[range.upperBound..<end]), arrived[index] == 0 {
                    arrived[index] = now
                    seen += 1
                }
            }
        }
        usleep(1000)
    }
    let end = arrived.max() ?? start
    return ClusterRun(filesPerSecond: Double(files) / (end - start),
                      p99: percentile((0..<files).map { (arrived[$0] - dropped[$0]) * 1000 }, 0.99))
}

private let clusterBinary = ProcessInfo.processInfo.environment["CONVD_BINARY"]
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path + "/.build/release/convd"
