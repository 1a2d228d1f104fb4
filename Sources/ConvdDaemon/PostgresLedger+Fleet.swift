// PostgresLedger+Fleet: what a node does for the fleet beside its jobs — the lease check
// before outputs are published, heartbeats, rescue of expired leases, the election of one
// lister per watch, the clean stop that gives all of it up, and the list of nodes.
import ConvdSystem
import Foundation
import Synchronization

extension PostgresLedger {
    public func stillHeld(_ jobs: [Job]) throws(LedgerError) -> Set<Int64> {
        guard !jobs.isEmpty else { return [] }
        // Our own count first (HeldLease): no round trip for leases claimed or renewed less
        // than two thirds of a lease ago. The others (a heartbeat late, a renewal that did
        // not include them) are asked of the database.
        let sure = ownCount(jobs)
        let unsure = jobs.filter { !sure.contains($0.id) }
        // Without a heartbeat for most of a lease, nothing else may be held.
        let fresh = state.withLock { leaseClock() - $0.lastHeartbeatOK < leaseSeconds * 2 / 3 }
        var asked: Set<Int64> = []
        if !unsure.isEmpty && fresh {
            // On the committer's own session: a check never waits behind the workers' claims.
            asked = try finishing.with { db throws(LedgerError) in
                Set(try db.query("""
                    SELECT f.id FROM convd_file f
                    WHERE \(Self.leased(ids: 2, tokens: 3)) AND f.lease_expires > now() + $1::float8 * interval '1 second'
                    """, [.real(leaseSeconds / 3), .array(unsure.map(\.id)), .array(unsure.map(\.lease))]).map { $0.int(0) })
            }
        }
        // Counted again now: the database may have kept us waiting.
        return ownCount(jobs).union(asked)
    }

    /// The jobs whose leases this process's own count holds with a third of a lease to spare
    /// (and none once another process has taken this node's name).
    private func ownCount(_ jobs: [Job]) -> Set<Int64> {
        let now = leaseClock()
        return state.withLock { s in
            guard !s.displaced else { return [] }
            return Set(jobs.filter { job in
                s.held[job.id].map { $0.token == job.lease && now - $0.renewed < leaseSeconds * 2 / 3 } ?? false
            }.map(\.id))
        }
    }

    /// Shared storage: size and mtime make a version.
    public var keysInode: Bool { false }

    public var problem: String? {
        let silent = state.withLock { leaseClock() - $0.lastHeartbeatOK }
        guard silent > 2 * max(0.2, leaseSeconds / 3) else { return nil }
        return "no heartbeat reached the database for \(Int(silent)) s; reconnecting"
    }

    public func lists(watch: String) -> Bool { state.withLock { $0.listers.contains(watch) } }

    public func maintain(watches: [String], inFlight: Int) -> [String] {
        let now = leaseClock()
        let period = max(0.2, leaseSeconds / 3)
        let due = state.withLock { s in
            (heartbeat: now >= s.nextHeartbeat, rescue: now >= s.nextRescue, election: now >= s.nextElection,
             held: s.held.map { (id: $0.key, token: $0.value.token) }, logged: s.logged)
        }
        state.withLock { $0.watches = watches }
        do {
            try keeping.with { db throws(LedgerError) in
                if due.heartbeat {
                    // Rows locked in id order, as the finish's fence locks them: no deadlock.
                    let renewed = try db.query("""
                        UPDATE convd_file SET lease_expires = \(Self.fromNow(2))
                        WHERE id IN (SELECT f.id FROM convd_file f WHERE f.lease_owner = $1
                                     AND \(Self.leased(ids: 3, tokens: 4)) ORDER BY f.id FOR UPDATE)
                        RETURNING id, lease_token
                        """, [.text(incarnation), .real(leaseSeconds), .array(due.held.map(\.id)),
                              .array(due.held.map(\.token))])
                    state.withLock { s in
                        for row in renewed {
                            guard var lease = s.held[row.int(0)], lease.token == row.int(1) else { continue }
                            lease.renewed = max(lease.renewed, now)
                            s.held[row.int(0)] = lease
                        }
                    }
                    let mine = try db.query("UPDATE convd_node SET heartbeat = now(), in_flight = $3, "
                                            + "logged_seq = greatest(logged_seq, $2) WHERE name = $1 AND incarnation = $4 "
                                            + "RETURNING 1",
                                            [.text(node), .int(due.logged), .int(Int64(inFlight)), .text(incarnation)])
                    if mine.isEmpty && !state.withLock({ $0.displaced }) {
                        onError("another process registered as node \"\(node)\": this one claims nothing more "
                                + "(give each process its own [daemon] node_name)")
                    }
                    state.withLock { s in
                        s.nextHeartbeat = now + period
                        s.lastHeartbeatOK = now
                        if mine.isEmpty { s.displaced = true }
                    }
                }
                if due.rescue {
                    let rescued = try db.query("""
                        UPDATE convd_file SET state = 'pending', run_after = now(),
                            lease_owner = NULL, lease_token = NULL, lease_expires = NULL
                        WHERE id IN (SELECT id FROM convd_file WHERE state = 'running' AND lease_expires < now()
                                     LIMIT 500 FOR UPDATE SKIP LOCKED)
                        RETURNING watch, path, lease_node
                        """)
                    if !rescued.isEmpty { announceWork(on: db) }
                    for r in rescued {
                        onError("lease expired on node \(r[2] ?? "?"); \(r[0] ?? "")/\(r[1] ?? "") runs again")
                    }
                    state.withLock { $0.nextRescue = now + min(5, period) }
                }
            }
            guard due.election else { return [] }
            let roles = try keeping.with { db throws(LedgerError) -> Set<String> in
                var roles: Set<String> = []
                for watch in watches {
                    let rows = try db.query("""
                        INSERT INTO convd_lister AS l VALUES ($1, $2, 1, \(Self.fromNow(3)))
                        ON CONFLICT (watch) DO UPDATE SET holder = $2, expires = \(Self.fromNow(3)),
                            term = l.term + CASE WHEN l.holder = $2 THEN 0 ELSE 1 END
                        WHERE l.holder = $2 OR l.expires < now() OR split_part(l.holder, '/', 1) = $4
                        RETURNING term
                        """, [.text(watch), .text(incarnation), .real(leaseSeconds), .text(node)])
                    if !rows.isEmpty { roles.insert(watch) }
                }
                return roles
            }
            return state.withLock { s in
                let gained = (s.degraded ? roles : roles.subtracting(s.listers)).sorted()
                s.listers = roles
                s.degraded = false
                s.nextElection = now + period
                return gained
            }
        } catch {
            onError("ledger: \(error)")
            state.withLock { s in
                s.degraded = true
                // Without a heartbeat for a whole lease, this node may no longer hold what it held.
                if now - s.lastHeartbeatOK > leaseSeconds { s.listers = [] }
            }
            return []
        }
    }

    /// A clean stop: the lister roles go at once (another node lists without waiting for the
    /// lease to run out) and the node shows nothing in flight.
    public func leave() {
        stopWatchingForWork()
        let held = state.withLock { s in
            s.listers = []
            defer { s.held = [:] }
            return s.held
        }
        _ = try? keeping.with { db throws(LedgerError) in
            // Jobs still held (running at stop_timeout, or claimed and not started) go back now.
            if !held.isEmpty {
                try db.query("""
                    UPDATE convd_file f SET state = 'pending', run_after = now(), lease_owner = NULL, lease_token = NULL,
                        lease_expires = NULL
                    WHERE \(Self.leased(ids: 1, tokens: 2))
                    """, [.array(held.map(\.key)), .array(held.map(\.value.token))])
                announceWork(on: db)
            }
            try db.query("DELETE FROM convd_lister WHERE holder = $1", [.text(incarnation)])
            try db.query("UPDATE convd_node SET in_flight = 0, heartbeat = now() WHERE name = $1 AND incarnation = $2",
                         [.text(node), .text(incarnation)])
        }
    }

    public func nodes() throws(LedgerError) -> [LedgerNode] {
        try general.with { db throws(LedgerError) in
            try db.query("SELECT name, host, pid, extract(epoch from now() - heartbeat), in_flight FROM convd_node "
                         + "ORDER BY name")
            .map { LedgerNode(name: $0[0] ?? "", host: $0[1] ?? "", pid: Int32($0.int(2)), heartbeatAge: $0.real(3),
                              inFlight: Int($0.int(4))) }
        }
    }
}
