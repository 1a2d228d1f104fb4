// SQLiteLedger: the embedded ledger backend, in SQLite (WAL). One row per file version (watch,
// relative path, size, mtime, inode) with its state: pending → running → done | failed.
// Pending work lives here, not in memory, so a burst of 100,000 files costs rows, not RAM,
// and a restart after `kill -9` finds every unfinished job (running rows return to pending).
// Every call is serialised by one lock; each is a single statement or one transaction.
//
// Why SQLite: crash-safe with WAL (a process crash loses no committed transaction; with
// synchronous=NORMAL only a power cut can lose the last ones), indexed lookups per file,
// and `sqlite3` lets an admin look inside. The system library is used directly.
import ConvdSystem
import Foundation

/// The database behind one lock.
private final class LockedDatabase: @unchecked Sendable {
    private let lock = NSLock()
    private let database: SQLiteDatabase

    init(_ database: SQLiteDatabase) { self.database = database }

    func withLock<T>(_ body: (SQLiteDatabase) throws(LedgerError) -> T) throws(LedgerError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(database)
    }
}

public final class SQLiteLedger: Ledger {
    private let db: LockedDatabase

    /// Opens or creates `STATE_DIR/ledger.sqlite`; rows left running by a previous process
    /// become pending again (unless `resetRunning` is false: another process, `convd retry`,
    /// opening the ledger of a running daemon). Of those, the rows in `crashed` (the jobs its
    /// workers were processing when it died) count a crash; with `crashed` nil, every one does.
    public init(path: String, resetRunning: Bool = true, crashed: Set<Int64>? = nil) throws(LedgerError) {
        let database = try SQLiteDatabase(path: path)
        try database.execute("""
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS files(
                id INTEGER PRIMARY KEY, watch TEXT NOT NULL, path TEXT NOT NULL,
                size INTEGER NOT NULL, mtime INTEGER NOT NULL, inode INTEGER NOT NULL,
                state TEXT NOT NULL, moved INTEGER NOT NULL DEFAULT 0, ready_at REAL NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, discovered REAL NOT NULL,
                reason TEXT, finished REAL, seq INTEGER, line TEXT);
            CREATE UNIQUE INDEX IF NOT EXISTS version ON files(watch, path, size, mtime, inode);
            CREATE INDEX IF NOT EXISTS by_path ON files(watch, path);
            CREATE INDEX IF NOT EXISTS waiting ON files(id) WHERE state = 'pending';
            CREATE INDEX IF NOT EXISTS by_seq ON files(seq) WHERE seq IS NOT NULL;
            CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO meta VALUES('next_seq', 1), ('logged_seq', 0);
            """)
        let columns = try database.query("PRAGMA table_info(files)").compactMap { $0[1].text }
        if !columns.contains("crashes") {
            try database.execute("ALTER TABLE files ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0")
        }
        if !columns.contains("checked") {
            try database.execute("ALTER TABLE files ADD COLUMN checked REAL")
        }
        try Self.createCounters(database)
        // A row still running belonged to a process that died (a clean stop puts its unstarted
        // jobs back). The one a worker was processing counts a crash of this file, so a file
        // that kills the daemon is failed after two instead of looping under Restart= (audit #4).
        if resetRunning {
            if let crashed {
                try database.transaction { () throws(LedgerError) in
                    for id in crashed {
                        try database.query("UPDATE files SET crashes = crashes + 1 WHERE id = ? AND state = 'running'",
                                           [.int(id)])
                    }
                    try database.execute("UPDATE files SET state = 'pending' WHERE state = 'running'")
                }
            } else {
                try database.execute("UPDATE files SET state = 'pending', crashes = crashes + 1 WHERE state = 'running'")
            }
        }
        db = LockedDatabase(database)
    }

    /// Records discoveries in one transaction. A version already known is left alone (a
    /// pending one has its ready time moved: events push the settle time on); a new version
    /// of a path whose old version is still pending replaces it. Returns the number of
    /// versions that are new, and the finished versions among `discoveries` (a rescan uses
    /// them to finish an after-action a crash interrupted).
    public func record(_ discoveries: [Discovery]) throws(LedgerError) -> (added: Int, finished: [FinishedVersion]) {
        guard !discoveries.isEmpty else { return (0, []) }
        return try db.withLock { db throws(LedgerError) in
            try db.transaction { () throws(LedgerError) in
                var added = 0
                var finished: [FinishedVersion] = []
                for d in discoveries {
                    let key: [SQLValue] = [.text(d.watch), .text(d.path), .int(d.version.size), .int(d.version.mtimeNs),
                                           .int(d.version.inode)]
                    let rows = try db.query("SELECT id, state, ready_at, reason FROM files WHERE watch = ? AND path = ? "
                                            + "AND size = ? AND mtime = ? AND inode = ?", key)
                    if let row = rows.first {
                        let state = row[1].text ?? ""
                        if state == "pending" {
                            let readyAt = d.moved ? min(row[2].real, d.readyAt) : max(row[2].real, d.readyAt)
                            try db.query("UPDATE files SET ready_at = ?, moved = moved | ? WHERE id = ?",
                                         [.real(readyAt), .int(d.moved ? 1 : 0), row[0]])
                        } else if state == "done" || state == "failed" {
                            finished.append(FinishedVersion(discovery: d, failed: state == "failed", reason: row[3].text))
                        }
                        continue
                    }
                    try db.query("UPDATE files SET size = ?, mtime = ?, inode = ?, ready_at = ?, moved = ? "
                                 + "WHERE watch = ? AND path = ? AND state = 'pending'",
                                 [key[2], key[3], key[4], .real(d.readyAt), .int(d.moved ? 1 : 0), key[0], key[1]])
                    if db.changes > 0 { continue }
                    try db.query("INSERT INTO files(watch, path, size, mtime, inode, state, moved, ready_at, discovered) "
                                 + "VALUES(?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                                 key + [.int(d.moved ? 1 : 0), .real(d.readyAt), .real(wallClock())])
                    added += 1
                }
                return (added, finished)
            }
        }
    }

    /// Marks up to `limit` pending jobs that are ready at `now` as running, in discovery order.
    public func claim(limit: Int, now: Double) throws(LedgerError) -> [Job] {
        try db.withLock { db throws(LedgerError) in
            try db.transaction { () throws(LedgerError) in
                let rows = try db.query("SELECT id, watch, path, size, mtime, inode, moved, attempts, discovered, crashes "
                                        + "FROM files WHERE state = 'pending' AND ready_at <= ? ORDER BY id LIMIT ?",
                                        [.real(now), .int(Int64(limit))])
                var jobs: [Job] = []
                for r in rows {
                    try db.query("UPDATE files SET state = 'running' WHERE id = ?", [r[0]])
                    jobs.append(Job(id: r[0].int, watch: r[1].text ?? "", path: r[2].text ?? "",
                                    version: FileVersion(size: r[3].int, mtimeNs: r[4].int, inode: r[5].int),
                                    moved: r[6].int != 0, attempts: Int(r[7].int), discovered: r[8].real,
                                    crashes: Int(r[9].int)))
                }
                return jobs
            }
        }
    }

    /// The earliest ready time of a pending job, or nil when none is pending.
    public func nextReadyAt() throws(LedgerError) -> Double? {
        try db.withLock { db throws(LedgerError) in
            let rows = try db.query("SELECT MIN(ready_at) FROM files WHERE state = 'pending'")
            if case .null = rows.first?.first ?? .null { return nil }
            return rows.first?.first?.real
        }
    }

    /// Jobs running, or pending and ready before `time` (a one-shot run waits for these).
    public func outstanding(before time: Double) throws(LedgerError) -> Int {
        try db.withLock { db throws(LedgerError) in
            Int(try db.query("SELECT COUNT(*) FROM files WHERE state = 'running' OR (state = 'pending' AND ready_at < ?)",
                             [.real(time)]).first?.first?.int ?? 0)
        }
    }

    /// Puts a claimed job back: pending again at `readyAt`, optionally as a newer version
    /// (a version that already has a row of its own just drops this one).
    public func requeue(_ job: Job, readyAt: Double, attempts: Int, reason: String?,
                        version: FileVersion?) throws(LedgerError) {
        try db.withLock { db throws(LedgerError) in
            let v = version ?? job.version
            let clash = version == nil ? [] : try db.query(
                "SELECT id FROM files WHERE watch = ? AND path = ? AND size = ? AND mtime = ? AND inode = ? AND id != ?",
                [.text(job.watch), .text(job.path), .int(v.size), .int(v.mtimeNs), .int(v.inode), .int(job.id)])
            if !clash.isEmpty {
                try db.query("DELETE FROM files WHERE id = ?", [.int(job.id)])
                return
            }
            try db.query("UPDATE files SET state = 'pending', ready_at = ?, attempts = ?, reason = ?, size = ?, "
                         + "mtime = ?, inode = ? WHERE id = ?",
                         [.real(readyAt), .int(Int64(attempts)), reason.map(SQLValue.text) ?? .null, .int(v.size),
                          .int(v.mtimeNs), .int(v.inode), .int(job.id)])
        }
    }

    /// Forgets a job whose file disappeared before it was read.
    public func drop(_ job: Job) throws(LedgerError) {
        try db.withLock { db throws(LedgerError) in _ = try db.query("DELETE FROM files WHERE id = ?", [.int(job.id)]) }
    }

    /// Finishes several jobs in one transaction, with consecutive sequence numbers in the
    /// order given; `wrote` gets their (seq, line) pairs after the commit, inside the lock, and
    /// says whether the log took them all. When an earlier write failed (the log is behind),
    /// `wrote` gets every line since the last one logged, so the log stays complete and in
    /// order once writing works again.
    @discardableResult
    public func finish(_ items: [Finish], wrote: ([(seq: Int64, line: String)]) -> Bool) throws(LedgerError) -> Set<Int64> {
        guard !items.isEmpty else { return [] }
        try db.withLock { db throws(LedgerError) in
            let lines = try db.transaction { () throws(LedgerError) -> [(seq: Int64, line: String)] in
                let first = try db.query("SELECT value FROM meta WHERE key = 'next_seq'").first?.first?.int ?? 1
                var lines: [(seq: Int64, line: String)] = []
                for (offset, item) in items.enumerated() {
                    let seq = first + Int64(offset)
                    let text = item.line(seq)
                    try db.query("UPDATE files SET state = ?, reason = ?, finished = ?, seq = ?, line = ? WHERE id = ?",
                                 [.text(item.failed ? "failed" : "done"), item.reason.map(SQLValue.text) ?? .null,
                                  .real(wallClock()), .int(seq), .text(text), .int(item.job.id)])
                    lines.append((seq, text))
                }
                try db.query("UPDATE meta SET value = ? WHERE key = 'next_seq'", [.int(first + Int64(items.count))])
                return lines
            }
            guard let first = lines.first, let last = lines.last else { return }
            let logged = try db.query("SELECT value FROM meta WHERE key = 'logged_seq'").first?.first?.int ?? 0
            let due = logged == first.seq - 1 ? lines : try db.query(
                "SELECT seq, line FROM files WHERE seq > ? ORDER BY seq", [.int(logged)]).map { ($0[0].int, $0[1].text ?? "") }
            if wrote(due) {
                try db.query("UPDATE meta SET value = ? WHERE key = 'logged_seq'", [.int(last.seq)])
            }
        }
        return []
    }

    /// Log lines of finished rows after sequence number `seq` (not yet in the log), in order.
    public func lines(after seq: Int64) throws(LedgerError) -> [(Int64, String)] {
        try db.withLock { db throws(LedgerError) in
            try db.query("SELECT seq, line FROM files WHERE seq > ? ORDER BY seq", [.int(seq)])
                .map { ($0[0].int, $0[1].text ?? "") }
        }
    }

    /// Every line after `seq`, at most `limit`: one host, so the same as `lines(after:)`.
    public func allLines(after seq: Int64, limit: Int) throws(LedgerError) -> [(Int64, String)] {
        try db.withLock { db throws(LedgerError) in
            try db.query("SELECT seq, line FROM files WHERE seq > ? ORDER BY seq LIMIT ?", [.int(seq), .int(Int64(limit))])
                .map { ($0[0].int, $0[1].text ?? "") }
        }
    }

    /// No leases on one host.
    public func stillHeld(_ jobs: [Job]) throws(LedgerError) -> Set<Int64> { Set(jobs.map(\.id)) }

    /// One host: the inode is part of a version.
    public var keysInode: Bool { true }

    /// One host lists every watch.
    public func lists(watch: String) -> Bool { true }

    /// No fleet to keep up with.
    public func maintain(watches: [String], inFlight: Int) -> [String] { [] }

    /// An SQLite error is reported where it happens.
    public var problem: String? { nil }

    /// Nothing held for others.
    public func watchForWork(_ wake: @escaping @Sendable () -> Void) {}

    public func leave() {}

    /// No other nodes.
    public func nodes() throws(LedgerError) -> [LedgerNode] { [] }

    /// The highest sequence number known to be in the log.
    public func loggedSeq() throws(LedgerError) -> Int64 {
        try db.withLock { db throws(LedgerError) in
            try db.query("SELECT value FROM meta WHERE key = 'logged_seq'").first?.first?.int ?? 0
        }
    }

    /// Records that the log holds every line up to `seq`.
    public func setLoggedSeq(_ seq: Int64) throws(LedgerError) {
        try db.withLock { db throws(LedgerError) in
            _ = try db.query("UPDATE meta SET value = MAX(value, ?) WHERE key = 'logged_seq'", [.int(seq)])
        }
    }

    /// Forgets the finished versions of a path so it is processed again; returns how many.
    public func forget(watch: String, path: String) throws(LedgerError) -> Int {
        try db.withLock { db throws(LedgerError) in
            try db.query("DELETE FROM files WHERE watch = ? AND path = ? AND state IN ('done', 'failed')",
                         [.text(watch), .text(path)])
            return db.changes
        }
    }

    /// Counts per watch and state, from the counters the ledger's triggers keep (no scan of
    /// the table: at 1 M rows the GROUP BY took 0.87 s under the lock, audit #12).
    public func counts() throws(LedgerError) -> [String: LedgerCounts] {
        try db.withLock { db throws(LedgerError) in
            var result: [String: LedgerCounts] = [:]
            for row in try db.query("SELECT watch, state, n FROM counts WHERE n > 0") {
                var c = result[row[0].text ?? "", default: LedgerCounts()]
                let n = Int(row[2].int)
                switch row[1].text {
                case "done": c.done = n
                case "failed": c.failed = n
                case "running": c.running = n
                default: c.pending = n
                }
                result[row[0].text ?? ""] = c
            }
            return result
        }
    }

    /// Finished rows older than `cutoff` (finished, and not checked since) whose log line is in
    /// the log, oldest first: the candidates for pruning.
    public func pruneCandidates(before cutoff: Double, limit: Int) throws(LedgerError) -> [(id: Int64, discovery: Discovery)] {
        try db.withLock { db throws(LedgerError) in
            try db.query("""
                SELECT id, watch, path, size, mtime, inode FROM files
                WHERE finished IS NOT NULL AND finished < ?1 AND (checked IS NULL OR checked < ?1)
                  AND seq <= (SELECT value FROM meta WHERE key = 'logged_seq')
                ORDER BY finished LIMIT ?2
                """, [.real(cutoff), .int(Int64(limit))])
                .map { r in
                    (r[0].int, Discovery(watch: r[1].text ?? "", path: r[2].text ?? "",
                                         version: FileVersion(size: r[3].int, mtimeNs: r[4].int, inode: r[5].int),
                                         moved: false, readyAt: 0))
                }
        }
    }

    /// Deletes the pruned rows `drop` and marks `keep` (still present: their rows keep the
    /// file from being processed again) as checked now, in one transaction.
    public func prune(drop: [Int64], keep: [Int64]) throws(LedgerError) {
        try db.withLock { db throws(LedgerError) in
            try db.transaction { () throws(LedgerError) in
                for id in drop { try db.query("DELETE FROM files WHERE id = ?", [.int(id)]) }
                for id in keep { try db.query("UPDATE files SET checked = ? WHERE id = ?", [.real(wallClock()), .int(id)]) }
            }
        }
    }

    /// The `counts` table and the triggers that keep it equal to the rows per (watch, state);
    /// filled once from the rows when it is new (a ledger from an earlier version).
    private static func createCounters(_ db: SQLiteDatabase) throws(LedgerError) {
        let exists = try db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'counts'")
        try db.execute("""
            CREATE TABLE IF NOT EXISTS counts(watch TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL,
                PRIMARY KEY(watch, state)) WITHOUT ROWID;
            CREATE TRIGGER IF NOT EXISTS count_insert AFTER INSERT ON files BEGIN
                INSERT INTO counts VALUES(new.watch, new.state, 1)
                    ON CONFLICT(watch, state) DO UPDATE SET n = n + 1;
            END;
            CREATE TRIGGER IF NOT EXISTS count_delete AFTER DELETE ON files BEGIN
                UPDATE counts SET n = n - 1 WHERE watch = old.watch AND state = old.state;
            END;
            CREATE TRIGGER IF NOT EXISTS count_update AFTER UPDATE OF state ON files
                WHEN old.state != new.state BEGIN
                UPDATE counts SET n = n - 1 WHERE watch = old.watch AND state = old.state;
                INSERT INTO counts VALUES(new.watch, new.state, 1)
                    ON CONFLICT(watch, state) DO UPDATE SET n = n + 1;
            END;
            CREATE INDEX IF NOT EXISTS by_finished ON files(finished) WHERE finished IS NOT NULL;
            """)
        if exists.isEmpty {
            try db.execute("INSERT INTO counts SELECT watch, state, COUNT(*) FROM files GROUP BY watch, state")
        }
    }

    /// Pending jobs held back after a transient failure (attempts > 0), with their last reason.
    public func blocked() throws(LedgerError) -> [(watch: String, count: Int, reason: String)] {
        try db.withLock { db throws(LedgerError) in
            try db.query("SELECT watch, COUNT(*), MAX(reason) FROM files WHERE state = 'pending' AND attempts > 0 "
                         + "AND reason IS NOT NULL GROUP BY watch")
                .map { ($0[0].text ?? "", Int($0[1].int), $0[2].text ?? "") }
        }
    }
}
