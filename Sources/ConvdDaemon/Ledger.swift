// Ledger: the daemon's memory of work — one row per file version with its state (pending →
// running → done | failed) — behind one interface with two backends (one state machine, only
// the SQL differs):
// - SQLiteLedger, embedded, the default: `STATE_DIR/ledger.sqlite`, one host;
// - PostgresLedger: one database shared by several hosts (`[daemon] ledger =
//   "postgresql://..."`), where claims are leases (a token and an expiry from the database's
//   clock), every completion is fenced by its token, expired leases are rescued by any node,
//   and one node per watch lists its tree.
// The daemon's threads call it concurrently; each backend serialises its own connection.

/// A failure of the ledger's database, with its message.
public struct LedgerError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(description: String) { self.description = description }
}

/// What the daemon asks of its ledger.
public protocol Ledger: AnyObject, Sendable {
    /// Records discoveries in one transaction. A version already known is left alone (a
    /// pending one has its ready time moved); returns how many versions are new, and the
    /// finished versions among `discoveries` (a rescan finishes an interrupted after-action).
    func record(_ discoveries: [Discovery]) throws(LedgerError) -> (added: Int, finished: [FinishedVersion])

    /// Marks up to `limit` pending jobs that are ready (at `now`, host wall clock; the
    /// PostgreSQL backend uses the database's clock) as running, in discovery order.
    func claim(limit: Int, now: Double) throws(LedgerError) -> [Job]

    /// The earliest ready time (host wall clock) of a pending job, or nil when none is pending.
    func nextReadyAt() throws(LedgerError) -> Double?

    /// Jobs running, or pending and ready before `time` (a one-shot run waits for these).
    func outstanding(before time: Double) throws(LedgerError) -> Int

    /// Puts a claimed job back: pending again at `readyAt`, optionally as a newer version (a
    /// version that already has a row of its own just drops this one). Fenced: a job whose
    /// lease was lost is left to its new holder.
    func requeue(_ job: Job, readyAt: Double, attempts: Int, reason: String?, version: FileVersion?) throws(LedgerError)

    /// Forgets a claimed job whose file disappeared before it was read (fenced).
    func drop(_ job: Job) throws(LedgerError)

    /// Finishes jobs in one transaction, with sequence numbers in the order given; `wrote` gets
    /// their (seq, line) pairs after the commit — or every line of this node since the last
    /// one logged, when an earlier write failed — and says whether the log took them all.
    /// Returns the ids of jobs refused because their lease was lost (another node holds them
    /// now): nothing of theirs was committed.
    @discardableResult
    func finish(_ items: [Finish], wrote: ([(seq: Int64, line: String)]) -> Bool) throws(LedgerError) -> Set<Int64>

    /// The jobs among `jobs` whose leases this node still holds, with a third of a lease to
    /// spare: their outputs may be published. All of them on one host.
    func stillHeld(_ jobs: [Job]) throws(LedgerError) -> Set<Int64>

    /// This node's log lines after sequence number `seq`, in order (those the log may lack).
    func lines(after seq: Int64) throws(LedgerError) -> [(Int64, String)]

    /// Every node's log lines after `seq`, in order, at most `limit` (`convd log`).
    func allLines(after seq: Int64, limit: Int) throws(LedgerError) -> [(Int64, String)]

    /// The highest sequence number known to be in this node's log.
    func loggedSeq() throws(LedgerError) -> Int64

    /// Records that this node's log holds every line of its own up to `seq`.
    func setLoggedSeq(_ seq: Int64) throws(LedgerError)

    /// Forgets the finished versions of a path so it is processed again; returns how many.
    func forget(watch: String, path: String) throws(LedgerError) -> Int

    /// Counts per watch and state.
    func counts() throws(LedgerError) -> [String: LedgerCounts]

    /// Finished rows older than `cutoff` whose log line is logged, oldest first.
    func pruneCandidates(before cutoff: Double, limit: Int) throws(LedgerError) -> [(id: Int64, discovery: Discovery)]

    /// Deletes the pruned rows `drop` and marks `keep` as checked now.
    func prune(drop: [Int64], keep: [Int64]) throws(LedgerError)

    /// Pending jobs held back after a transient failure (attempts > 0), with their last reason.
    func blocked() throws(LedgerError) -> [(watch: String, count: Int, reason: String)]

    /// Whether the version of a file includes its inode (one host) or only size and mtime
    /// (shared storage: an inode number is not the same on every host).
    var keysInode: Bool { get }

    /// Whether this node lists `watch` (records what it finds). Always true on one host.
    func lists(watch: String) -> Bool

    /// Periodic fleet work, called about once a second: heartbeat and lease renewal, rescue of
    /// expired leases, lister election for `watches`. Returns the watches this node has just
    /// become the lister of (they are walked at once). Nothing to do on one host.
    /// A node restarted under the same name takes its previous incarnation's lister roles at once.
    func maintain(watches: [String], inFlight: Int) -> [String]

    /// What keeps this node from working with the ledger now (the database unreachable for
    /// longer than a heartbeat period), or nil.
    var problem: String? { get }

    /// Calls `wake` when another node may have made work ready (a fleet's notifications;
    /// nothing on one host, where discovery wakes the scheduler itself). Ends at `leave`.
    func watchForWork(_ wake: @escaping @Sendable () -> Void)

    /// A clean stop: gives up what this node holds for the fleet (lister roles). Nothing on one host.
    func leave()

    /// The nodes sharing this ledger (empty on one host).
    func nodes() throws(LedgerError) -> [LedgerNode]
}

extension Ledger {
    public func requeue(_ job: Job, readyAt: Double, attempts: Int, reason: String? = nil) throws(LedgerError) {
        try requeue(job, readyAt: readyAt, attempts: attempts, reason: reason, version: nil)
    }

    /// Finishes one job as done or failed (see `finish(_:wrote:)`); false when its lease was lost.
    @discardableResult
    public func finish(_ job: Job, failed: Bool, reason: String?, line: @escaping (Int64) -> String,
                       wrote: (Int64, String) -> Bool) throws(LedgerError) -> Bool {
        try finish([Finish(job: job, failed: failed, reason: reason, line: line)]) { lines in
            lines.allSatisfy { wrote($0.seq, $0.line) }
        }.isEmpty
    }
}

/// One node of a fleet, as the ledger last heard of it.
public struct LedgerNode: Sendable, Codable, Equatable {
    public var name: String
    public var host: String
    public var pid: Int32
    /// Seconds since its last heartbeat.
    public var heartbeatAge: Double
    public var inFlight: Int
}
