// `convd-bench ledger [ROWS]`: the status counts and the claim query on a ledger of ROWS
// (default 1,000,000) rows — 99% finished, 1% pending, over 4 watches — with the counters
// the triggers keep, beside the full GROUP BY scan the status used before (audit #12).
import ConvdDaemon
import Foundation

func runLedgerBenchmarks(rows: Int, runs: Int = 11) {
    let folder = NSTemporaryDirectory() + "convd-ledger-bench-\(getpid())"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/ledger.sqlite"
    do {
        let ledger = try SQLiteLedger(path: path)
        var batch: [Discovery] = []
        for i in 0..<rows {
            batch.append(Discovery(watch: "w\(i % 4)", path: "d\(i % 1000)/f\(i).png",
                                   version: FileVersion(size: Int64(i), mtimeNs: 1, inode: Int64(i)), moved: true,
                                   readyAt: 0))
            if batch.count == 10_000 {
                _ = try ledger.record(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        _ = try ledger.record(batch)
        // Finish 99% in one statement (the triggers keep the counters), as a long-running daemon would have.
        let sql = "UPDATE files SET state = 'done', finished = 1, seq = id WHERE id % 100 != 0; "
            + "UPDATE meta SET value = (SELECT MAX(id) FROM files) WHERE key = 'logged_seq';"
        let update = Process()
        update.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        update.arguments = [path, sql]
        try? update.run()
        update.waitUntilExit()
        let reopened = try SQLiteLedger(path: path)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let counts = measure(runs: runs) { _ = try? reopened.counts() }
        report([("bench", quoted("ledger-status-counts")), ("rows", "\(rows)"), ("bytes", "\(size)")], counts)
        let scan = measure(runs: runs) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            p.arguments = [path, "SELECT watch, state, COUNT(*) FROM files GROUP BY watch, state"]
            p.standardOutput = FileHandle.nullDevice
            try? p.run()
            p.waitUntilExit()
        }
        report([("bench", quoted("ledger-group-by-scan-via-sqlite3")), ("rows", "\(rows)")], scan)
        let claim = measure(runs: runs) {
            if let jobs = try? reopened.claim(limit: 16, now: 1) {
                for job in jobs { try? reopened.requeue(job, readyAt: 0, attempts: 0) }
            }
        }
        report([("bench", quoted("ledger-claim-16-and-requeue")), ("rows", "\(rows)")], claim)
        let prune = measure(runs: runs) { _ = try? reopened.pruneCandidates(before: 2, limit: 500) }
        report([("bench", quoted("ledger-prune-candidates-500")), ("rows", "\(rows)")], prune)
    } catch {
        print("{\"bench\":\"ledger\",\"error\":\(quoted("\(error)"))}")
    }
}
