// The ledger's rules: one row per file version, rescans add nothing, a pending version is
// replaced by a newer one, claims come in discovery order and only when ready, running rows
// return to pending after a crash, finishing assigns consecutive sequence numbers.
@testable import ConvdDaemon
import ConvdSystem
import ConvdTestSupport
import Testing

@Suite("Ledger")
struct LedgerTests {
    private func discovery(_ path: String, size: Int64 = 10, mtime: Int64 = 1, ready: Double = 0,
                           moved: Bool = false) -> Discovery {
        Discovery(watch: "w", path: path, version: FileVersion(size: size, mtimeNs: mtime, inode: 1), moved: moved,
                  readyAt: ready)
    }

    @Test("exactly once per version across rescans and restarts")
    func versions() throws {
        let dir = TemporaryDirectory()
        let ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        #expect(try ledger.record([discovery("a"), discovery("b")]).added == 2)
        #expect(try ledger.record([discovery("a"), discovery("b")]).added == 0)
        // A new version of a pending file replaces it; nothing is added.
        #expect(try ledger.record([discovery("a", size: 11)]).added == 0)
        let jobs = try ledger.claim(limit: 10, now: 1)
        #expect(jobs.map(\.path) == ["a", "b"])
        #expect(jobs[0].version.size == 11)
        #expect(try ledger.claim(limit: 10, now: 1).isEmpty)
        var lines: [String] = []
        try ledger.finish(jobs[0], failed: false, reason: nil, line: { "{\"seq\":\($0)}" }) { _, l in lines.append(l); return true }
        #expect(lines == ["{\"seq\":1}"])
        // The finished version is known: a rescan reports it as finished and adds nothing.
        let again = try ledger.record([discovery("a", size: 11)])
        #expect(again.added == 0 && again.finished.count == 1 && !again.finished[0].failed)
        // A crash: b was running; reopening makes it pending again.
        let reopened = try SQLiteLedger(path: dir.file("l.sqlite"))
        #expect(try reopened.claim(limit: 10, now: 1).map(\.path) == ["b"])
        #expect(try reopened.counts()["w"] == LedgerCounts(done: 1, failed: 0, pending: 0, running: 1))
        #expect(try reopened.loggedSeq() == 1)
    }

    @Test("ready times: settling files wait, moved-in files are ready at once, requeue backs off")
    func readiness() throws {
        let dir = TemporaryDirectory()
        let ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        _ = try ledger.record([discovery("slow", ready: 100), discovery("moved", ready: 5, moved: true)])
        #expect(try ledger.nextReadyAt() == 5)
        #expect(try ledger.claim(limit: 10, now: 50).map(\.path) == ["moved"])
        // Another event for the settling file pushes its ready time on.
        _ = try ledger.record([discovery("slow", ready: 150)])
        #expect(try ledger.claim(limit: 10, now: 120).isEmpty)
        let slow = try #require(try ledger.claim(limit: 10, now: 150).first)
        try ledger.requeue(slow, readyAt: 200, attempts: 1, reason: "disk full")
        #expect(try ledger.blocked().first?.reason == "disk full")
        #expect(try ledger.outstanding(before: 190) == 1)  // "moved" still running
        #expect(try ledger.claim(limit: 10, now: 200).first?.attempts == 1)
    }

    @Test("forget makes a finished file pending again; lines after a sequence number come back in order")
    func forgetAndLines() throws {
        let dir = TemporaryDirectory()
        let ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        _ = try ledger.record([discovery("a"), discovery("b")])
        for job in try ledger.claim(limit: 10, now: 1) {
            try ledger.finish(job, failed: job.path == "b", reason: "bad", line: { "line \($0)" }) { _, _ in false }
        }
        #expect(try ledger.lines(after: 0).map(\.1) == ["line 1", "line 2"])
        #expect(try ledger.loggedSeq() == 0)
        #expect(try ledger.forget(watch: "w", path: "b") == 1)
        #expect(try ledger.record([discovery("b")]).added == 1)
    }

    @Test("JSON text keeps key order and escapes strictly")
    func json() {
        var j = JSONText()
        j.add("seq", Int64(3))
        j.add("file", "a \"b\"\n\u{1}")
        j.add("p", 0.1234567)
        j.add("label", nil as String?)
        #expect(j.text == #"{"seq":3,"file":"a \"b\"\n\u0001","p":0.123457,"label":null}"#)
    }
}

@Suite("Ledger: counters, crashes, retention")
struct LedgerBoundsTests {
    private func found(_ path: String, watch: String = "w", size: Int64 = 10) -> Discovery {
        Discovery(watch: watch, path: path, version: FileVersion(size: size, mtimeNs: 1, inode: 1), moved: true, readyAt: 0)
    }

    /// The counts by a full scan, to compare with the triggers' counters.
    private func scanned(_ path: String) throws -> [String: LedgerCounts] {
        let r = try ConvdBinary.runProgram("/usr/bin/sqlite3", [path, "SELECT watch, state, COUNT(*) FROM files GROUP BY 1, 2"])
        var result: [String: LedgerCounts] = [:]
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: "|").map(String.init)
            var c = result[f[0], default: LedgerCounts()]
            let n = Int(f[2]) ?? -1
            switch f[1] {
            case "done": c.done = n
            case "failed": c.failed = n
            case "running": c.running = n
            default: c.pending = n
            }
            result[f[0]] = c
        }
        return result
    }

    @Test("the counters equal a full scan through record, claim, requeue, finish, drop, forget and a restart")
    func counters() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("l.sqlite")
        var ledger = try SQLiteLedger(path: path)
        _ = try ledger.record((0..<30).map { found("f\($0)", watch: $0 % 3 == 0 ? "a" : "b") })
        var jobs = try ledger.claim(limit: 20, now: 1)
        for (i, job) in jobs.enumerated() {
            switch i % 4 {
            case 0: try ledger.finish(job, failed: false, reason: nil, line: { "\($0)" }) { _, _ in true }
            case 1: try ledger.finish(job, failed: true, reason: "x", line: { "\($0)" }) { _, _ in true }
            case 2: try ledger.requeue(job, readyAt: 0, attempts: 1, reason: nil, version: FileVersion(size: 99, mtimeNs: 1, inode: 1))
            default: try ledger.drop(job)
            }
        }
        _ = try ledger.forget(watch: "a", path: "f0")
        jobs = try ledger.claim(limit: 3, now: 1)
        #expect(try ledger.counts() == scanned(path))
        ledger = try SQLiteLedger(path: path)  // running rows become pending (and count a crash)
        #expect(try ledger.counts() == scanned(path))
        #expect(try ledger.counts().values.reduce(0) { $0 + $1.running } == 0)
    }

    @Test("a job running when the process died counts a crash at each restart")
    func crashes() throws {
        let dir = TemporaryDirectory()
        var ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        _ = try ledger.record([found("poison.png")])
        for expected in 0..<3 {
            let job = try #require(try ledger.claim(limit: 1, now: 1).first)
            #expect(job.crashes == expected)
            ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        }
    }

    @Test("after a crash only the rows named as in progress count it; the others claimed with them do not")
    func crashesOfMarkedRowsOnly() throws {
        let dir = TemporaryDirectory()
        var ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        _ = try ledger.record((0..<6).map { found("f\($0).png") })
        let claimed = try ledger.claim(limit: 6, now: 1)
        let poison = claimed[2]
        ledger = try SQLiteLedger(path: dir.file("l.sqlite"), crashed: [poison.id])
        let again = try ledger.claim(limit: 6, now: 1)
        #expect(again.map(\.path) == claimed.map(\.path), "every running row is pending again")
        #expect(again.map(\.crashes) == [0, 0, 1, 0, 0, 0])
        // No marks known (a ledger from before them): every running row counts the crash.
        ledger = try SQLiteLedger(path: dir.file("l.sqlite"), crashed: nil)
        #expect(try ledger.claim(limit: 6, now: 1).map(\.crashes) == [1, 1, 2, 1, 1, 1])
    }

    @Test("a batch finishes in one transaction: consecutive sequence numbers in the order given, one log call")
    func batchFinish() throws {
        let dir = TemporaryDirectory()
        let ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        _ = try ledger.record((0..<6).map { found("f\($0).png") })
        let jobs = try ledger.claim(limit: 6, now: 1)
        try ledger.finish(jobs[0], failed: false, reason: nil, line: { "one \($0)" }) { _, _ in true }
        var calls: [[(seq: Int64, line: String)]] = []
        let batch = [jobs[3], jobs[1], jobs[2]].map { job in
            Finish(job: job, failed: job.path == "f1.png", reason: job.path == "f1.png" ? "bad" : nil,
                   line: { "\(job.path) \($0)" })
        }
        try ledger.finish(batch) { lines in
            calls.append(lines)
            return true
        }
        #expect(calls.count == 1)
        #expect(calls.first?.map(\.seq) == [2, 3, 4])
        #expect(calls.first?.map(\.line) == ["f3.png 2", "f1.png 3", "f2.png 4"])
        #expect(try ledger.loggedSeq() == 4)
        #expect(try ledger.lines(after: 1).map(\.1) == ["f3.png 2", "f1.png 3", "f2.png 4"])
        #expect(try ledger.counts()["w"] == LedgerCounts(done: 3, failed: 1, pending: 0, running: 2))
        // A log that did not take the lines leaves logged_seq where it was; the next seq goes on.
        try ledger.finish([Finish(job: jobs[4], failed: false, reason: nil, line: { "\($0)" })]) { _ in false }
        #expect(try ledger.loggedSeq() == 4)
        #expect(try ledger.lines(after: 4).map(\.0) == [5])
        // The log is behind: the next finish hands it the missing line first, then its own.
        var late: [Int64] = []
        try ledger.finish([Finish(job: jobs[5], failed: false, reason: nil, line: { "\($0)" })]) { lines in
            late = lines.map(\.seq)
            return true
        }
        #expect(late == [5, 6])
        #expect(try ledger.loggedSeq() == 6)
        try ledger.finish([]) { _ in
            Issue.record("an empty batch writes nothing")
            return true
        }
    }

    @Test("pruning: only finished, logged rows older than the cutoff are candidates; kept rows wait another period")
    func pruning() throws {
        let dir = TemporaryDirectory()
        let ledger = try SQLiteLedger(path: dir.file("l.sqlite"))
        _ = try ledger.record([found("gone.png"), found("here.png"), found("pending.png")])
        for job in try ledger.claim(limit: 2, now: 1) {
            try ledger.finish(job, failed: false, reason: nil, line: { "\($0)" }) { _, _ in true }
        }
        #expect(try ledger.pruneCandidates(before: wallClock() - 86_400, limit: 10).isEmpty, "not old enough")
        let candidates = try ledger.pruneCandidates(before: wallClock() + 1, limit: 10)
        #expect(candidates.map(\.discovery.path) == ["gone.png", "here.png"])
        try ledger.prune(drop: [candidates[0].id], keep: [candidates[1].id])
        #expect(try ledger.pruneCandidates(before: wallClock() - 1, limit: 10).isEmpty, "the kept row was checked now")
        #expect(try ledger.counts()["w"] == LedgerCounts(done: 1, failed: 0, pending: 1, running: 0))
        // The pruned version is new again; the kept one is still known.
        #expect(try ledger.record([found("gone.png"), found("here.png")]).added == 1)
    }
}

@Suite("sd_notify text")
struct NotifyTextTests {
    @Test("a STATUS= value is one line: a newline in a name cannot add WATCHDOG=trigger or STOPPING=1")
    func statusIsOneLine() {
        let value = SystemdNotifier.statusValue("blocked: a: 1 waiting: in/x\nWATCHDOG=trigger\nSTOPPING=1\n.png: too long")
        #expect(value == "blocked: a: 1 waiting: in/x\\nWATCHDOG=trigger\\nSTOPPING=1\\n.png: too long")
        #expect(SystemdNotifier.statusValue(String(repeating: "M", count: 5000)).count == 1024)
    }
}
