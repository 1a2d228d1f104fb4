// PostgresLedger+Finish: finishing jobs — the fence by lease token, the block of sequence
// numbers (in commit order), the log lines made once and numbered by the database, and the
// hand-over of this node's lines to its log.
import ConvdSystem
import Foundation

extension PostgresLedger {
    public func finish(_ items: [Finish], wrote: ([(seq: Int64, line: String)]) -> Bool) throws(LedgerError) -> Set<Int64> {
        guard !items.isEmpty else { return [] }
        // Each line made once, with seq 0; the database puts the real number in.
        let rests = items.map { Self.rest(ofLine: $0.line(0)) }
        return try finishing.with { db throws(LedgerError) -> Set<Int64> in
            // Finished or given up: whatever happens below, this process no longer works on them.
            release(items.map(\.job))
            let numbered: [PGRow]
            do throws(LedgerError) {
                // One statement, so one commit and one round trip: the fence (only rows still
                // running under the tokens we hold, locked in id order); what this node's log
                // holds so far (the lines of the finishes before this one, for the
                // reconciliation after a crash); a block of sequence numbers, given in the order
                // of `items` (the counter row's lock is held to the commit, so sequence order is
                // commit order); and the rows finished with their lines.
                numbered = try db.query("""
                    WITH held AS (SELECT f.id, array_position($1::bigint[], f.id) AS position FROM convd_file f
                                  WHERE \(Self.leased(ids: 1, tokens: 2)) ORDER BY f.id FOR UPDATE OF f),
                         logged AS (UPDATE convd_node SET logged_seq = greatest(logged_seq, $3)
                                    WHERE name = $4 AND incarnation = $5),
                         block AS (UPDATE convd_meta SET value = value + (SELECT count(*) FROM held)
                                   WHERE key = 'next_seq' RETURNING value - (SELECT count(*) FROM held) AS first),
                         n AS (SELECT held.id, held.position,
                                      block.first + row_number() OVER (ORDER BY held.position) - 1 AS seq
                               FROM held, block)
                    UPDATE convd_file f SET state = ($6::text[])[n.position], reason = ($7::text[])[n.position],
                        finished = now(), finished_by = $4, seq = n.seq,
                        line = '\(Self.seqPrefix)' || n.seq || ($8::text[])[n.position],
                        lease_owner = NULL, lease_expires = NULL
                    FROM n WHERE f.id = n.id
                    RETURNING n.position, n.seq
                    """, [.array(items.map(\.job.id)), .array(items.map(\.job.lease)), .int(state.withLock { $0.logged }),
                          .text(node), .text(incarnation), .array(items.map { Optional($0.failed ? "failed" : "done") }),
                          .array(items.map(\.reason)), .array(rests.map(Optional.some))])
            } catch {
                // The commit may have happened: hand this node's lines over again next time.
                state.withLock { $0.behind = true }
                throw error
            }
            // Mapped back by position in `items` (1-based), not by id.
            let seqs = Dictionary(numbered.map { (Int($0.int(0)) - 1, $0.int(1)) }, uniquingKeysWith: min)
            let lines = seqs.map { (seq: $0.value, line: Self.seqPrefix + String($0.value) + rests[$0.key]) }
                .sorted { $0.seq < $1.seq }
            let refused = Set(items.indices.filter { seqs[$0] == nil }.map { items[$0].job.id })
            guard let last = lines.last else { return refused }
            // Finishes are serialised on this session, so nothing else moves `logged` meanwhile
            // but setLoggedSeq at start, which only raises it.
            let (behind, logged) = state.withLock { ($0.behind, $0.logged) }
            let due = behind ? try Self.lines(of: node, after: logged, in: db).map { (seq: $0.0, line: $0.1) } : lines
            let ok = wrote(due)
            state.withLock { s in
                if ok { s.logged = max(s.logged, due.last?.seq ?? last.seq) }
                s.behind = !ok
            }
            return refused
        }
    }

    /// How every log line begins: its seq comes first.
    static let seqPrefix = "{\"seq\":"

    /// What follows the seq in a line made with seq 0.
    static func rest(ofLine template: String) -> String {
        let rest = template.utf8.dropFirst(seqPrefix.utf8.count + 1)
        let digit = rest.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false
        precondition(template.hasPrefix(seqPrefix + "0") && !digit, "a log line begins with its seq")
        return String(decoding: rest, as: UTF8.self)
    }

    /// `node`'s log lines after `seq`, in order.
    static func lines(of node: String, after seq: Int64, in db: PostgresConnection) throws(LedgerError) -> [(Int64, String)] {
        try db.query("SELECT seq, line FROM convd_file WHERE finished_by = $1 AND seq > $2 ORDER BY seq",
                     [.text(node), .int(seq)]).map { ($0.int(0), $0[1] ?? "") }
    }
}
