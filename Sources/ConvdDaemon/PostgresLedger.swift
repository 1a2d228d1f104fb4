// PostgresLedger: the ledger shared by a fleet of convd nodes over one PostgreSQL database
// (schema: PostgresSchema). Every timestamp that decides anything comes from the database's
// clock, never a host's.
// - claim: a batch of ready rows with `FOR UPDATE SKIP LOCKED`, each given a lease (token
//   from a sequence, expiry = now() + lease) owned by this node's incarnation;
// - heartbeat (every lease/3): this incarnation's leases renewed, the node row touched;
// - rescue (any node): a running row whose lease expired is pending again (an expiry is not
//   a crash: a node that dies on a file counts it from its in-flight marks when it restarts,
//   as on one host);
// - finish, requeue, drop: fenced by the lease token — a node whose lease expired (stopped,
//   partitioned) commits nothing; its late finish is refused and reported;
// - listing: one node per watch holds a TTL lease row in convd_lister and records what it
//   finds; correctness never depends on it (versions are a UNIQUE key, inserted with ON
//   CONFLICT), it only saves the others the listing work.
// "Exactly once" is then: one committed done row with its log line per version; the work may
// run twice (a rescued lease), but only one run's effects commit.
import ConvdSystem
import Foundation
import Synchronization

public final class PostgresLedger: Ledger, Sendable {
    /// Four connections, so that claims, finishes, maintenance and the rest (discovery,
    /// status) do not wait for each other's round trips. Finishes (and the committer's lease
    /// checks) are serialised on theirs: each one's log lines are written before the next
    /// one's, in sequence order.
    let claiming: PostgresSession
    let finishing: PostgresSession
    let general: PostgresSession
    /// Heartbeats, rescue and election, on a connection of their own: a slow status query or
    /// listing never delays a heartbeat past the lease.
    let keeping: PostgresSession
    /// This node's name (unique in the fleet) and this process's incarnation of it.
    public let node: String
    public let incarnation: String
    private let host: String
    /// The database, for connections made later (the listener's).
    let uri: String
    /// Seconds a claimed job's lease lasts without a heartbeat.
    public let leaseSeconds: Double
    let onError: @Sendable (String) -> Void
    let state = Mutex(FleetState())

    /// A lease this process holds: its token, and when (leaseClock, which counts a suspend;
    /// read before the statement was sent) the claim or the heartbeat that last set its expiry
    /// began. The database's expiry is at least `lease` after that moment, so while less than
    /// two thirds of a lease have passed since, the lease is held with a third to spare — the
    /// holder's own count, started early, as leases are kept everywhere. (Another process
    /// registering under this node's name takes the leases early: `displaced`, found at the
    /// next heartbeat, ends the count.)
    struct HeldLease {
        var token: Int64
        var renewed: Double
    }

    /// What this process knows of its place in the fleet.
    struct FleetState {
        /// The last of this node's lines known to be in its log.
        var logged: Int64 = 0
        /// A log write failed or a commit's outcome is unknown: the next finish hands over
        /// every line of this node since `logged`.
        var behind = false
        /// The watches this node lists.
        var listers: Set<String> = []
        /// The rows this process holds leases on and still works on: only these are renewed,
        /// so a job given up (its finish failed with the database away) runs out and is
        /// rescued.
        var held: [Int64: HeldLease] = [:]
        /// A maintenance round failed: the next good one walks every watch this node lists
        /// again (what was found while the database was away was not recorded).
        var degraded = false
        /// Another process took this node's name (its heartbeat found another incarnation):
        /// this one claims nothing more.
        var displaced = false
        /// The watches this process runs: it claims only their files.
        var watches: [String] = []
        var nextHeartbeat = 0.0, nextRescue = 0.0, nextElection = 0.0
        /// The listener thread (watchForWork) ends.
        var listenerStopped = false
        var lastHeartbeatOK = leaseClock()
    }

    /// Opens the ledger at `uri`, creating or migrating its schema when the role may.
    /// A daemon node (`register`) records itself in convd_node, refuses to start while another
    /// live process holds its name, and returns its previous incarnation's running rows to
    /// pending (those in `crashed`, or all when it is nil, count a crash). Without `register`
    /// (`convd status`, `log`, `retry`) nothing of the fleet's state changes.
    public init(uri: String, node: String, leaseSeconds: Double = 30, register: Bool, crashed: Set<Int64>? = nil,
                onError: @escaping @Sendable (String) -> Void = { _ in }) throws(LedgerError) {
        general = PostgresSession(try PostgresConnection(uri: uri))
        // The claim must walk the ordered partial index of pending rows. At the start of a
        // burst the planner's statistics still say the table is nearly empty, and it chose a
        // bitmap scan and a sort of every pending row (5 ms a claim at 10,000 rows, against
        // 0.1 ms): this connection runs only index lookups (claims, the next ready time, and
        // requeue, drop and lease checks by primary key), so those plans are ruled out on it
        // and on the finishing connection (the fence and the update, by primary key).
        let lookups = "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off"
        claiming = PostgresSession(try PostgresConnection(uri: uri, setup: lookups))
        finishing = PostgresSession(try PostgresConnection(uri: uri, setup: lookups))
        keeping = PostgresSession(try PostgresConnection(uri: uri))
        let db = general.connection
        self.node = node
        self.uri = uri
        self.leaseSeconds = leaseSeconds
        self.onError = onError
        host = ProcessInfo.processInfo.hostName
        incarnation = "\(node)/\(host)/\(getpid())/\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
        do {
            try PostgresSchema.migrate(db)
        } catch {
            // A role that may not create tables still runs on a schema someone else created.
            let found = try PostgresSchema.present(db)
            if found > PostgresSchema.version { throw error }  // "upgrade convd on this host"
            guard found == PostgresSchema.version else {
                throw LedgerError(description: "cannot create or migrate the ledger's schema (found version \(found), "
                                  + "this convd uses \(PostgresSchema.version)): \(error.description); run `convd ledger "
                                  + "init` as a role that may create tables")
            }
        }
        guard register else { return }
        try db.transaction { () throws(LedgerError) in
            // Two processes registering one name at once: one waits for the other's commit.
            try db.query("SELECT pg_advisory_xact_lock(7468234, hashtext($1))", [.text(node)])
            if let row = try db.query("SELECT host, pid, extract(epoch from now() - heartbeat) FROM convd_node "
                                      + "WHERE name = $1 FOR UPDATE", [.text(node)]).first {
                let otherHost = row[0] ?? "", otherPid = Int32(row.int(1)), age = row.real(2)
                // Alive: a heartbeat within a lease, and on this host a process with that pid (a
                // zombie, or a hung process that resumes later, finds itself displaced).
                // EPERM: a process of another user, alive.
                let alive = age < leaseSeconds && (otherHost != host || kill(otherPid, 0) == 0 || errno == EPERM)
                if alive {
                    throw LedgerError(description: "another convd named \"\(node)\" is running (host \(otherHost), pid "
                                      + "\(otherPid), heartbeat \(Int(age)) s ago): give each node its own "
                                      + "[daemon] node_name")
                }
            }
            let rows = try db.query("""
                INSERT INTO convd_node(name, incarnation, host, pid, started, heartbeat)
                VALUES ($1, $2, $3, $4, now(), now())
                ON CONFLICT (name) DO UPDATE SET incarnation = $2, host = $3, pid = $4, started = now(),
                    heartbeat = now(), in_flight = 0
                RETURNING logged_seq
                """, [.text(node), .text(incarnation), .text(host), .int(Int64(getpid()))])
            let logged = rows.first?.int(0) ?? 0
            state.withLock { $0.logged = logged }
            try db.query("""
                UPDATE convd_file SET state = 'pending', lease_owner = NULL, lease_token = NULL, lease_expires = NULL,
                    run_after = now(), crashes = crashes + CASE WHEN $2::bigint[] IS NULL OR id = ANY($2::bigint[])
                                                           THEN 1 ELSE 0 END
                WHERE state = 'running' AND lease_node = $1
                """, [.text(node), crashed.map { PGValue.array(Array($0)) } ?? .null])
        }
    }

    /// `uri` with any password hidden, for messages.
    public static func redacted(_ uri: String) -> String { PostgresConnection.redacted(uri) }

    /// The schema version this build uses.
    public static var schemaVersion: Int { PostgresSchema.version }

    /// SQL: row `f` is running under one of the leases given as two arrays, ids (`$ids`) and
    /// their tokens (`$tokens`). The id is the index condition, so the primary key finds the
    /// rows, in id order, whatever the planner thinks of the table's size.
    static func leased(ids: Int, tokens: Int) -> String {
        "f.state = 'running' AND f.id = ANY($\(ids)::bigint[]) "
            + "AND f.lease_token = ($\(tokens)::bigint[])[array_position($\(ids)::bigint[], f.id)]"
    }

    /// `now() + seconds`, as SQL with the parameter `$n`.
    static func fromNow(_ n: Int) -> String { "now() + $\(n)::float8 * interval '1 second'" }

    public func record(_ discoveries: [Discovery]) throws(LedgerError) -> (added: Int, finished: [FinishedVersion]) {
        // One row per key: a version found twice (an event and a listing) is moved if either
        // says so, and ready at the earlier time when moved.
        var unique: [String: Discovery] = [:]
        var order: [String] = []
        for d in discoveries {
            let key = Self.key(d)
            if var seen = unique[key] {
                seen.moved = seen.moved || d.moved
                seen.readyAt = d.moved ? min(seen.readyAt, d.readyAt) : max(seen.readyAt, d.readyAt)
                unique[key] = seen
            } else {
                unique[key] = d
                order.append(key)
            }
        }
        let items = order.compactMap { unique[$0] }
        guard !items.isEmpty else { return (0, []) }
        let now = wallClock()
        do {
            return try record(items, byKey: unique, now: now)
        } catch {
            // What was found is not recorded: the next good maintenance round lists again.
            state.withLock { $0.degraded = true }
            throw error
        }
    }

    private func record(_ items: [Discovery], byKey unique: [String: Discovery],
                        now: Double) throws(LedgerError) -> (added: Int, finished: [FinishedVersion]) {
        try general.with { db throws(LedgerError) in
            var added = 0
            var finished: [FinishedVersion] = []
            for start in stride(from: 0, to: items.count, by: 500) {
                let chunk = Array(items[start..<min(items.count, start + 500)])
                // DO NOTHING takes no lock on a known row (DO UPDATE would lock running rows in
                // listing order, against the id order of finishes and heartbeats).
                let inserted = try db.query("""
                    INSERT INTO convd_file AS f (watch, path, size, mtime_ns, inode, moved, run_after)
                    SELECT v.watch, v.path, v.size, v.mtime_ns, v.inode, v.moved, now() + v.delay * interval '1 second'
                    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::boolean[],
                                $7::float8[]) AS v(watch, path, size, mtime_ns, inode, moved, delay)
                    ON CONFLICT ON CONSTRAINT convd_file_version DO NOTHING
                    RETURNING f.watch, f.path, f.size, f.mtime_ns
                    """, Self.versionKeys(chunk) + [.array(chunk.map(\.version.inode)), .array(chunk.map(\.moved)),
                          .array(chunk.map { $0.readyAt - now })])
                added += inserted.count
                // A lost notification only costs the others a poll: it never fails the listing.
                if !inserted.isEmpty { announceWork(on: db) }
                let returned = Set(inserted.map(Self.key))
                let known = chunk.filter { !returned.contains(Self.key($0)) }
                guard !known.isEmpty else { continue }
                // A version moved in again while it waits is ready at once. Only pending rows
                // are locked here: claims skip locked rows, finishes and heartbeats lock only
                // running ones, so no lock order is at stake.
                let moved = known.filter(\.moved)
                if !moved.isEmpty, !(try db.query("""
                    UPDATE convd_file f SET run_after = least(f.run_after, now() + v.delay * interval '1 second'),
                        moved = true
                    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::float8[])
                        AS v(watch, path, size, mtime_ns, delay)
                    WHERE f.watch = v.watch AND f.path = v.path AND f.size = v.size AND f.mtime_ns = v.mtime_ns
                      AND f.state = 'pending' AND NOT f.moved
                    RETURNING f.id
                    """, Self.versionKeys(moved) + [.array(moved.map { $0.readyAt - now })]).isEmpty) {
                    announceWork(on: db)
                }
                // Versions known before may be finished: a rescan completes an interrupted
                // after-action (a burst of new files needs no such query). A join on the version
                // key's index; the discovery is this host's, so its inode is too.
                for row in try db.query("""
                    SELECT f.watch, f.path, f.size, f.mtime_ns, f.state, f.reason
                    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS v(watch, path, size, mtime_ns)
                    JOIN convd_file f ON f.watch = v.watch AND f.path = v.path AND f.size = v.size
                        AND f.mtime_ns = v.mtime_ns
                    WHERE f.state IN ('done', 'failed')
                    """, Self.versionKeys(known)) {
                    guard let d = unique[Self.key(row)] else { continue }
                    finished.append(FinishedVersion(discovery: d, failed: row[4] == "failed", reason: row[5]))
                }
            }
            return (added, finished)
        }
    }

    /// The version keys of `discoveries` as four array parameters: watch, path, size, mtime_ns.
    private static func versionKeys(_ discoveries: [Discovery]) -> [PGValue] {
        [.array(discoveries.map { Optional($0.watch) }), .array(discoveries.map { Optional($0.path) }),
         .array(discoveries.map(\.version.size)), .array(discoveries.map(\.version.mtimeNs))]
    }

    /// Forgets the leases of `jobs` that this process still holds: it no longer works on them.
    func release(_ jobs: [Job]) {
        state.withLock { s in
            for job in jobs where s.held[job.id]?.token == job.lease { s.held[job.id] = nil }
        }
    }

    /// A version's key as text.
    private static func key(_ d: Discovery) -> String {
        key(d.watch, d.path, d.version.size, d.version.mtimeNs)
    }

    /// The key of a row whose first four columns are watch, path, size and mtime_ns.
    private static func key(_ row: PGRow) -> String { key(row[0] ?? "", row[1] ?? "", row.int(2), row.int(3)) }

    private static func key(_ watch: String, _ path: String, _ size: Int64, _ mtimeNs: Int64) -> String {
        "\(watch)\u{0}\(path)\u{0}\(size)\u{0}\(mtimeNs)"
    }

    public func claim(limit: Int, now: Double) throws(LedgerError) -> [Job] {
        let (displaced, watches) = state.withLock { ($0.displaced, $0.watches) }
        if displaced { throw LedgerError(description: "another process runs as node \"\(node)\": not claiming") }
        return try claiming.with { db throws(LedgerError) in
            let sent = leaseClock()
            let jobs = try db.query("""
                WITH c AS MATERIALIZED (
                    SELECT id FROM convd_file WHERE state = 'pending' AND run_after <= now()
                      AND ($5::text[] = '{}' OR watch = ANY($5::text[]))
                    ORDER BY run_after, id LIMIT $1 FOR UPDATE SKIP LOCKED)
                UPDATE convd_file f SET state = 'running', lease_owner = $2, lease_node = $3,
                    lease_token = nextval('convd_lease_seq'), lease_expires = \(Self.fromNow(4))
                FROM c WHERE f.id = c.id
                RETURNING f.id, f.watch, f.path, f.size, f.mtime_ns, f.inode, f.moved, f.attempts,
                    extract(epoch from f.discovered), f.crashes, f.lease_token
                """, [.int(Int64(limit)), .text(incarnation), .text(node), .real(leaseSeconds),
                      PGValue.array(watches.map(Optional.some))])
            .map { r in
                Job(id: r.int(0), watch: r[1] ?? "", path: r[2] ?? "",
                    version: FileVersion(size: r.int(3), mtimeNs: r.int(4), inode: r.int(5)), moved: r.bool(6),
                    attempts: Int(r.int(7)), discovered: r.real(8), crashes: Int(r.int(9)), lease: r.int(10))
            }
            .sorted { $0.id < $1.id }
            state.withLock { s in for job in jobs { s.held[job.id] = HeldLease(token: job.lease, renewed: sent) } }
            return jobs
        }
    }

    public func nextReadyAt() throws(LedgerError) -> Double? {
        let now = wallClock()
        return try claiming.with { db throws(LedgerError) in
            try db.query("SELECT extract(epoch from min(run_after) - now()) FROM convd_file WHERE state = 'pending'")
                .first?[0].flatMap(Double.init).map { now + $0 }
        }
    }

    public func outstanding(before time: Double) throws(LedgerError) -> Int {
        let now = wallClock()
        return try general.with { db throws(LedgerError) in
            Int(try db.query("SELECT count(*) FROM convd_file WHERE state = 'running' OR "
                             + "(state = 'pending' AND run_after < \(Self.fromNow(1)))", [.real(time - now)])
                .first?.int(0) ?? 0)
        }
    }

    public func requeue(_ job: Job, readyAt: Double, attempts: Int, reason: String?,
                        version: FileVersion?) throws(LedgerError) {
        let now = wallClock()
        try claiming.with { db throws(LedgerError) in
            release([job])
            let v = version ?? job.version
            if version != nil, !(try db.query("""
                SELECT 1 FROM convd_file WHERE watch = $1 AND path = $2 AND size = $3 AND mtime_ns = $4 AND id != $5
                """, [.text(job.watch), .text(job.path), .int(v.size), .int(v.mtimeNs), .int(job.id)]).isEmpty) {
                try db.query("DELETE FROM convd_file WHERE id = $1 AND lease_token = $2 AND state = 'running'",
                             [.int(job.id), .int(job.lease)])
                return
            }
            try db.query("""
                UPDATE convd_file SET state = 'pending', run_after = \(Self.fromNow(1)), attempts = $2, reason = $3,
                    size = $4, mtime_ns = $5, inode = $6, lease_owner = NULL, lease_token = NULL, lease_expires = NULL
                WHERE id = $7 AND lease_token = $8 AND state = 'running'
                """, [.real(readyAt - now), .int(Int64(attempts)), reason.map(PGValue.text) ?? .null, .int(v.size),
                      .int(v.mtimeNs), .int(v.inode), .int(job.id), .int(job.lease)])
        }
    }

    public func drop(_ job: Job) throws(LedgerError) {
        try claiming.with { db throws(LedgerError) in
            release([job])
            _ = try db.query("DELETE FROM convd_file WHERE id = $1 AND lease_token = $2 AND state = 'running'",
                             [.int(job.id), .int(job.lease)])
        }
    }
}
