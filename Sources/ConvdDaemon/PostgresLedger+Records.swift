// PostgresLedger+Records: reading and tidying the fleet's rows — log lines (this node's and
// everyone's), what this node's log holds, counts per watch, retention, blocked jobs.
import ConvdSystem
import Foundation

extension PostgresLedger {
    public func lines(after seq: Int64) throws(LedgerError) -> [(Int64, String)] {
        try general.with { db throws(LedgerError) in try Self.lines(of: node, after: seq, in: db) }
    }

    public func allLines(after seq: Int64, limit: Int) throws(LedgerError) -> [(Int64, String)] {
        try general.with { db throws(LedgerError) in
            try db.query("SELECT seq, line FROM convd_file WHERE seq > $1 ORDER BY seq LIMIT $2",
                         [.int(seq), .int(Int64(limit))]).map { ($0.int(0), $0[1] ?? "") }
        }
    }

    public func loggedSeq() throws(LedgerError) -> Int64 { state.withLock { $0.logged } }

    public func setLoggedSeq(_ seq: Int64) throws(LedgerError) {
        let logged = state.withLock { s in
            s.logged = max(s.logged, seq)
            return s.logged
        }
        try general.with { db throws(LedgerError) in
            _ = try db.query("UPDATE convd_node SET logged_seq = greatest(logged_seq, $2) WHERE name = $1",
                             [.text(node), .int(logged)])
        }
    }

    public func forget(watch: String, path: String) throws(LedgerError) -> Int {
        try general.with { db throws(LedgerError) in
            try db.query("DELETE FROM convd_file WHERE watch = $1 AND path = $2 AND state IN ('done', 'failed') "
                         + "RETURNING id", [.text(watch), .text(path)]).count
        }
    }

    public func counts() throws(LedgerError) -> [String: LedgerCounts] {
        try general.with { db throws(LedgerError) in
            var result: [String: LedgerCounts] = [:]
            for row in try db.query("SELECT watch, state, count(*) FROM convd_file GROUP BY watch, state") {
                var c = result[row[0] ?? "", default: LedgerCounts()]
                let n = Int(row.int(2))
                switch row[1] {
                case "done": c.done = n
                case "failed": c.failed = n
                case "running": c.running = n
                default: c.pending = n
                }
                result[row[0] ?? ""] = c
            }
            return result
        }
    }

    /// This node's own finished rows (each node prunes what it finished and logged), then
    /// those of nodes gone for longer than the retention period (no heartbeat since `cutoff`),
    /// up to what each logged: a node that never comes back leaves nothing behind for ever.
    public func pruneCandidates(before cutoff: Double, limit: Int) throws(LedgerError) -> [(id: Int64, discovery: Discovery)] {
        try general.with { db throws(LedgerError) in
            let departed = try db.query("""
                SELECT name, logged_seq FROM convd_node WHERE name <> $1 AND heartbeat < to_timestamp($2) ORDER BY name
                """, [.text(node), .real(cutoff)]).map { ($0[0] ?? "", $0.int(1)) }
            var found: [(id: Int64, discovery: Discovery)] = []
            for (name, logged) in [(node, state.withLock { $0.logged })] + departed where found.count < limit {
                found += try db.query("""
                    SELECT id, watch, path, size, mtime_ns, inode FROM convd_file
                    WHERE finished_by = $1 AND seq <= $2 AND finished < to_timestamp($3)
                      AND (checked IS NULL OR checked < to_timestamp($3))
                    ORDER BY seq LIMIT $4
                    """, [.text(name), .int(logged), .real(cutoff), .int(Int64(limit - found.count))])
                .map { r in
                    (r.int(0), Discovery(watch: r[1] ?? "", path: r[2] ?? "",
                                         version: FileVersion(size: r.int(3), mtimeNs: r.int(4), inode: r.int(5)),
                                         moved: false, readyAt: 0))
                }
            }
            return found
        }
    }

    public func prune(drop: [Int64], keep: [Int64]) throws(LedgerError) {
        try general.with { db throws(LedgerError) in
            try db.transaction { () throws(LedgerError) in
                try db.query("DELETE FROM convd_file WHERE id = ANY($1::bigint[])", [.array(drop)])
                try db.query("UPDATE convd_file SET checked = now() WHERE id = ANY($1::bigint[])", [.array(keep)])
            }
        }
    }

    public func blocked() throws(LedgerError) -> [(watch: String, count: Int, reason: String)] {
        try general.with { db throws(LedgerError) in
            try db.query("SELECT watch, count(*), max(reason) FROM convd_file WHERE state = 'pending' AND attempts > 0 "
                         + "AND reason IS NOT NULL GROUP BY watch")
            .map { ($0[0] ?? "", Int($0.int(1)), $0[2] ?? "") }
        }
    }
}
