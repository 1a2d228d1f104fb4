// The PostgreSQL ledger's protocol on a real server (PostgresServer): versions keyed without
// the inode, claims that two nodes never share, completions fenced by the lease token, rescue
// of expired leases (counting a crash), one lister per watch with failover, sequence numbers
// in commit order, and a node name that only one live process may hold.
@testable import ConvdDaemon
import ConvdSystem
import ConvdTestSupport
import Foundation
import Testing

@Suite("PostgreSQL ledger")
struct PostgresLedgerTests {
    private func discovery(_ path: String, size: Int64 = 10, mtime: Int64 = 1, inode: Int64 = 1) -> Discovery {
        Discovery(watch: "w", path: path, version: FileVersion(size: size, mtimeNs: mtime, inode: inode), moved: true,
                  readyAt: wallClock())
    }

    private func line(_ seq: Int64) -> String { "{\"seq\":\(seq)}" }

    /// Two nodes with one-second leases; the first claimed a file and let the lease run out,
    /// and the second rescued it. Returns both nodes and the stale claim.
    private func expiredClaim() throws -> (PostgresLedger, PostgresLedger, Job) {
        let uri = try PostgresServer.shared.createDatabase()
        let slow = try PostgresLedger(uri: uri, node: "slow", leaseSeconds: 1, register: true)
        let other = try PostgresLedger(uri: uri, node: "other", leaseSeconds: 1, register: true)
        _ = try slow.record([discovery("a")])
        let stale = try #require(try slow.claim(limit: 1, now: wallClock()).first)
        Thread.sleep(forTimeInterval: 1.3)
        _ = other.maintain(watches: [], inFlight: 0)  // rescues the expired lease
        return (slow, other, stale)
    }

    @Test("a version is (watch, path, size, mtime): another host's inode adds nothing; claims are disjoint")
    func versionsAndClaims() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let a = try PostgresLedger(uri: uri, node: "a", register: true)
        let b = try PostgresLedger(uri: uri, node: "b", register: true)
        #expect(try a.record((0..<40).map { discovery("f\($0)") }).added == 40)
        #expect(try b.record((0..<40).map { discovery("f\($0)", inode: 99) }).added == 0)
        let first = try a.claim(limit: 25, now: wallClock())
        let second = try b.claim(limit: 25, now: wallClock())
        #expect(first.count == 25 && second.count == 15)
        #expect(Set(first.map(\.id)).isDisjoint(with: second.map(\.id)))
        #expect(first.allSatisfy { $0.lease > 0 })
        #expect(try a.counts()["w"] == LedgerCounts(done: 0, failed: 0, pending: 0, running: 40))
        #expect(!a.keysInode)
    }

    @Test("completions are fenced: a rescued lease's late finish is refused, the new holder's commits once")
    func fence() throws {
        let (slow, other, stale) = try expiredClaim()
        let fresh = try #require(try other.claim(limit: 1, now: wallClock()).first)
        #expect(fresh.id == stale.id && fresh.lease != stale.lease && fresh.crashes == 0)  // an expiry is no crash
        var written: [String] = []
        // The lease check before outputs are published: the holder's own count says yes for a
        // fresh claim; past two thirds of a lease the database is asked, and says no.
        #expect(try other.stillHeld([fresh]) == [fresh.id])
        #expect(try slow.stillHeld([stale]).isEmpty)
        #expect(try !slow.finish(stale, failed: false, reason: nil, line: line) { _, l in written.append(l); return true })
        #expect(written.isEmpty)
        #expect(try other.finish(fresh, failed: false, reason: nil, line: line) { _, l in written.append(l); return true })
        #expect(written == ["{\"seq\":1}"])
        // Requeue and drop are fenced too.
        try slow.requeue(stale, readyAt: wallClock(), attempts: 0)
        try slow.drop(stale)
        #expect(try other.counts()["w"] == LedgerCounts(done: 1, failed: 0, pending: 0, running: 0))
        #expect(try other.allLines(after: 0, limit: 10).map(\.1) == ["{\"seq\":1}"])
    }

    @Test("a file claimed again after its lease ran out, with the old claim in the same finish: one line, one seq")
    func reclaimedInOneFinish() throws {
        let (node, _, old) = try expiredClaim()
        let new = try #require(try node.claim(limit: 1, now: wallClock()).first)
        #expect(new.id == old.id && new.lease > old.lease)
        var written: [(seq: Int64, line: String)] = []
        let refused = try node.finish([new, old].map { Finish(job: $0, failed: false, reason: nil, line: line) }) {
            written += $0
            return true
        }
        #expect(written.map(\.seq) == [1] && refused == [old.id])
        #expect(try node.allLines(after: 0, limit: 10).map(\.1) == [line(1)])
    }

    @Test("sequence numbers follow commit order across nodes; each node's own lines come back after a failed write")
    func sequence() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let a = try PostgresLedger(uri: uri, node: "a", register: true)
        let b = try PostgresLedger(uri: uri, node: "b", register: true)
        _ = try a.record((0..<4).map { discovery("f\($0)") })
        let ja = try a.claim(limit: 2, now: wallClock()), jb = try b.claim(limit: 2, now: wallClock())
        _ = try a.finish(ja.map { Finish(job: $0, failed: false, reason: nil, line: line) }) { _ in false }
        _ = try b.finish(jb.map { Finish(job: $0, failed: false, reason: nil, line: line) }) { _ in true }
        #expect(try a.allLines(after: 0, limit: 10).map(\.0) == [1, 2, 3, 4])
        #expect(try a.lines(after: 0).map(\.0) == [1, 2])
        #expect(try b.lines(after: 2).map(\.0) == [3, 4])
        #expect(try a.loggedSeq() == 0 && b.loggedSeq() == 4)
        // Within one finish, numbers follow the order given, not the rows' order (b: a's log
        // write failed above, so a would hand over its older lines too).
        _ = try b.record((4..<7).map { discovery("f\($0)") })
        let three = try b.claim(limit: 3, now: wallClock())
        var lines: [(seq: Int64, line: String)] = []
        let refused = try b.finish(three.reversed().map { Finish(job: $0, failed: false, reason: nil, line: line) }) {
            lines = $0
            return true
        }
        #expect(refused.isEmpty)
        #expect(lines.map(\.seq) == [5, 6, 7] && lines.map(\.line) == [line(5), line(6), line(7)])
        #expect(try a.allLines(after: 4, limit: 10).map(\.1) == [line(5), line(6), line(7)])
        let order = try PostgresServer.shared.psql(uri, "SELECT string_agg(path, ',' ORDER BY seq) FROM convd_file WHERE seq > 4")
        #expect(order.trimmingCharacters(in: .whitespacesAndNewlines) == three.reversed().map(\.path).joined(separator: ","))
    }

    @Test("an idle node is woken by another node's new work (LISTEN/NOTIFY), not by its own")
    func wakeups() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let a = try PostgresLedger(uri: uri, node: "a", register: true)
        let b = try PostgresLedger(uri: uri, node: "b", register: true)
        let wakes = Wakes()
        a.watchForWork { wakes.add() }
        defer { a.leave() }
        #expect(wakes.wait(atLeast: 1, seconds: 10))  // listening (a first connection wakes once)
        _ = try a.record([discovery("own")])
        Thread.sleep(forTimeInterval: 0.5)
        #expect(wakes.count == 1)
        _ = try b.record([discovery("theirs")])
        #expect(wakes.wait(atLeast: 2, seconds: 10))
    }

    @Test("retention: a node prunes its own logged rows and those of nodes gone past the retention period")
    func retention() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let nodes = try ["a", "alive", "gone"].map { try PostgresLedger(uri: uri, node: $0, register: true) }
        _ = try nodes[0].record(["a", "alive", "gone"].map { discovery($0) })
        for ledger in nodes {
            let job = try #require(try ledger.claim(limit: 1, now: wallClock()).first)
            #expect(try ledger.finish(job, failed: false, reason: nil, line: line) { _, _ in true })
            _ = ledger.maintain(watches: [], inFlight: 0)  // the heartbeat records what its log holds
        }
        _ = try PostgresServer.shared.psql(uri, """
            UPDATE convd_file SET finished = now() - interval '30 days';
            UPDATE convd_node SET heartbeat = now() - interval '30 days' WHERE name = 'gone'
            """)
        let candidates = try nodes[0].pruneCandidates(before: wallClock() - 7 * 86_400, limit: 10)
        #expect(candidates.map(\.discovery.path) == ["a", "gone"])
        try nodes[0].prune(drop: candidates.map(\.id), keep: [])
        #expect(try nodes[0].counts()["w"]?.done == 1)
    }

    @Test("hostile names survive the array parameters: quotes, backslashes, braces, commas, NULL, newlines")
    func hostileNames() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let ledger = try PostgresLedger(uri: uri, node: "a", register: true)
        let names = ["a\"b.png", "back\\slash\\\".png", "c,d{e}.png", "NULL", "{}", " spaced .png", "x\ny.png",
                     "\u{1B}[31mred.png", "\u{FFFD}.png", "\"\"", "\\"]
        #expect(try ledger.record(names.map { discovery($0) }).added == names.count)
        #expect(try ledger.record(names.map { discovery($0) }).added == 0)  // each found again by its key
        let jobs = try ledger.claim(limit: 100, now: wallClock())
        #expect(jobs.map(\.path) == names)
        let refused = try ledger.finish(jobs.map { job in
            Finish(job: job, failed: false, reason: job.path, line: { "{\"seq\":\($0),\"file\":\(job.path.debugDescription)}" })
        }) { _ in true }
        #expect(refused.isEmpty)
        #expect(try ledger.allLines(after: 0, limit: 100).map(\.1)
                == names.enumerated().map { "{\"seq\":\($0.offset + 1),\"file\":\($0.element.debugDescription)}" })
        #expect(try PostgresServer.shared.psql(uri, "SELECT count(*) FROM convd_file WHERE reason = path")
            .trimmingCharacters(in: .whitespacesAndNewlines) == String(names.count))
    }

    @Test("a version 1 schema is migrated: the same rows, fewer indexes")
    func migration() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let first = try PostgresLedger(uri: uri, node: "a", register: true)
        _ = try first.record([discovery("kept")])
        // Back to what version 1 created.
        _ = try PostgresServer.shared.psql(uri, """
            DROP INDEX convd_file_seq; ALTER TABLE convd_file ADD CONSTRAINT convd_file_seq_key UNIQUE (seq);
            CREATE INDEX convd_file_path ON convd_file (watch, path);
            CREATE INDEX convd_file_finished ON convd_file (finished) WHERE finished IS NOT NULL;
            UPDATE convd_schema SET version = 1
            """)
        let second = try PostgresLedger(uri: uri, node: "b", register: true)
        let indexes = try PostgresServer.shared.psql(
            uri, "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'convd_file'")
        #expect(indexes.trimmingCharacters(in: .whitespacesAndNewlines)
                == "convd_file_node_seq,convd_file_pending,convd_file_pkey,convd_file_running,convd_file_seq,convd_file_version")
        #expect(try PostgresServer.shared.psql(uri, "SELECT max(version) FROM convd_schema")
            .trimmingCharacters(in: .whitespacesAndNewlines) == String(PostgresLedger.schemaVersion))
        #expect(try second.claim(limit: 5, now: wallClock()).map(\.path) == ["kept"])
    }

    @Test("one lister per watch; another node takes over when its lease runs out")
    func listers() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let a = try PostgresLedger(uri: uri, node: "a", leaseSeconds: 1, register: true)
        let b = try PostgresLedger(uri: uri, node: "b", leaseSeconds: 1, register: true)
        #expect(a.maintain(watches: ["w", "v"], inFlight: 0) == ["v", "w"])
        #expect(b.maintain(watches: ["w", "v"], inFlight: 0).isEmpty)
        #expect(a.lists(watch: "w") && !b.lists(watch: "w"))
        Thread.sleep(forTimeInterval: 1.2)  // a stops renewing
        #expect(b.maintain(watches: ["w", "v"], inFlight: 0) == ["v", "w"])
        #expect(b.lists(watch: "v"))
        #expect(try a.nodes().map(\.name) == ["a", "b"])
    }

    @Test("a node name held by a live process is refused; a dead one's running rows return at once")
    func nodeNames() throws {
        let uri = try PostgresServer.shared.createDatabase()
        let first = try PostgresLedger(uri: uri, node: "n", register: true)
        _ = try first.record([discovery("a"), discovery("b")])
        let claimed = try first.claim(limit: 2, now: wallClock())
        // Same host, and this process is alive: a second "n" is refused...
        #expect(throws: LedgerError.self) { try PostgresLedger(uri: uri, node: "n", register: true) }
        // ...unless the holder is gone: pretend its pid ended.
        try PostgresServer.shared.psql(uri, "UPDATE convd_node SET pid = 2147483646")
        let restarted = try PostgresLedger(uri: uri, node: "n", register: true, crashed: [claimed[0].id])
        let again = try restarted.claim(limit: 2, now: wallClock())
        #expect(again.count == 2)
        #expect(again.first { $0.id == claimed[0].id }?.crashes == 1)
        #expect(again.first { $0.id == claimed[1].id }?.crashes == 0)
    }

    @Test("a password in the URI never reaches a message")
    func redaction() {
        #expect(PostgresConnection.redacted("postgresql://u:secret@h/db") == "postgresql://u:***@h/db")
        #expect(PostgresConnection.redacted("host=h password=secret user=u") == "host=h password=*** user=u")
    }
}

/// Counts wake-ups from another thread.
private final class Wakes: @unchecked Sendable {
    private let condition = NSCondition()
    private var value = 0

    var count: Int { condition.withLock { value } }

    func add() { condition.withLock { value += 1; condition.broadcast() } }

    /// Whether the count reached `target` within `seconds`.
    func wait(atLeast target: Int, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        return condition.withLock {
            while value < target { if !condition.wait(until: deadline) { break } }
            return value >= target
        }
    }
}
