// PostgresSchema: the fleet ledger's tables, created and migrated by `convd ledger init` or
// at a node's start (when its role may), under an advisory lock so that nodes starting
// together do not race, with the version in `convd_schema`.
//
// - convd_file: one row per file version, keyed by (watch, path, size, mtime_ns) — the inode
//   is kept for information only: it is not the same on every host of a shared tree. A
//   running row carries its lease: owner (a node's incarnation), token, expiry (database
//   clock). A finished row carries its sequence number, its log line and the node that
//   finished it.
// - convd_meta: the next sequence number; its row lock orders finishes, so sequence order is
//   commit order and `convd log --follow` never skips a line committed late.
// - convd_node: one row per node name: incarnation, host, pid, heartbeat, jobs in flight and
//   the last of its lines known to be in its log.
// - convd_lister: per watch, the node that lists its tree, with a term and an expiry.

enum PostgresSchema {
    /// The schema version this build writes and reads.
    static let version = 2

    /// Statements that bring an empty database to `version`.
    static let create = """
        CREATE SEQUENCE IF NOT EXISTS convd_lease_seq;
        CREATE TABLE IF NOT EXISTS convd_file(
            id bigserial PRIMARY KEY, watch text NOT NULL, path text NOT NULL,
            size bigint NOT NULL, mtime_ns bigint NOT NULL, inode bigint NOT NULL,
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
            moved boolean NOT NULL DEFAULT false, run_after timestamptz NOT NULL,
            attempts int NOT NULL DEFAULT 0, crashes int NOT NULL DEFAULT 0,
            lease_owner text, lease_node text, lease_token bigint, lease_expires timestamptz,
            discovered timestamptz NOT NULL DEFAULT now(), reason text,
            finished timestamptz, finished_by text, seq bigint, line text, checked timestamptz,
            CONSTRAINT convd_file_version UNIQUE (watch, path, size, mtime_ns));
        CREATE INDEX IF NOT EXISTS convd_file_pending ON convd_file (run_after, id) WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS convd_file_running ON convd_file (lease_expires) WHERE state = 'running';
        CREATE INDEX IF NOT EXISTS convd_file_node_seq ON convd_file (finished_by, seq) WHERE seq IS NOT NULL;
        CREATE UNIQUE INDEX IF NOT EXISTS convd_file_seq ON convd_file (seq) WHERE seq IS NOT NULL;
        ALTER TABLE convd_file SET (autovacuum_vacuum_scale_factor = 0.01,
                                    autovacuum_vacuum_insert_scale_factor = 0.01);
        CREATE TABLE IF NOT EXISTS convd_meta(key text PRIMARY KEY, value bigint NOT NULL);
        INSERT INTO convd_meta VALUES ('next_seq', 1) ON CONFLICT DO NOTHING;
        CREATE TABLE IF NOT EXISTS convd_node(
            name text PRIMARY KEY, incarnation text NOT NULL, host text NOT NULL, pid int NOT NULL,
            started timestamptz NOT NULL, heartbeat timestamptz NOT NULL, in_flight int NOT NULL DEFAULT 0,
            logged_seq bigint NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS convd_lister(
            watch text PRIMARY KEY, holder text NOT NULL, term bigint NOT NULL, expires timestamptz NOT NULL);
        """

    /// From version 1 to 2: fewer indexes, since every claim and every finish changes a row's
    /// state and so writes an entry into each index of the table (more than half the server's
    /// time per file). Lookups by (watch, path) use the version key's index; retention walks a
    /// node's rows in sequence order; the sequence index leaves out unfinished rows.
    static let migrations: [Int: String] = [
        2: """
            CREATE UNIQUE INDEX IF NOT EXISTS convd_file_seq ON convd_file (seq) WHERE seq IS NOT NULL;
            ALTER TABLE convd_file DROP CONSTRAINT IF EXISTS convd_file_seq_key;
            DROP INDEX IF EXISTS convd_file_path;
            DROP INDEX IF EXISTS convd_file_finished;
            """,
    ]

    /// Creates or migrates the schema; returns the version found before (0: none).
    @discardableResult
    static func migrate(_ db: PostgresConnection) throws(LedgerError) -> Int {
        try db.transaction { () throws(LedgerError) -> Int in
            // Nodes starting while another migrates a large table wait for it; the migration
            // itself may take longer than a statement normally may.
            try db.execute("SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0")
            try db.execute("SELECT pg_advisory_xact_lock(7468233)")  // "convd" schema lock
            try db.execute("CREATE TABLE IF NOT EXISTS convd_schema(version int NOT NULL)")
            let found = Int(try db.query("SELECT max(version) FROM convd_schema").first?.int(0) ?? 0)
            if found > version {
                throw LedgerError(description: "the ledger's schema is version \(found), newer than this convd "
                                  + "(\(version)): upgrade convd on this host")
            }
            if found == 0 {
                try db.execute(create)
            } else if found < version {
                for step in (found + 1)...version {
                    guard let sql = migrations[step] else {
                        throw LedgerError(description: "no migration of the ledger's schema to version \(step)")
                    }
                    try db.execute(sql)
                }
            }
            if found < version {
                try db.query("INSERT INTO convd_schema VALUES ($1)", [.int(Int64(version))])
            }
            return found
        }
    }

    /// The version present (0: none), without changing anything.
    static func present(_ db: PostgresConnection) throws(LedgerError) -> Int {
        let exists = try db.query("SELECT to_regclass('convd_schema') IS NOT NULL").first?.bool(0) ?? false
        guard exists else { return 0 }
        return Int(try db.query("SELECT max(version) FROM convd_schema").first?.int(0) ?? 0)
    }
}
