// LedgerRecords: what goes into the ledger and comes out of it — discoveries, claimed jobs,
// finishes, finished versions and per-watch counts (Ledger.swift holds the database).

/// A file version discovered in a watch.
public struct Discovery: Sendable {
    public var watch: String
    /// Path relative to the watch's input folder.
    public var path: String
    public var version: FileVersion
    /// Arrived by rename: complete, no settle time.
    public var moved: Bool
    /// Earliest time (wall clock) it may be read.
    public var readyAt: Double

    public init(watch: String, path: String, version: FileVersion, moved: Bool, readyAt: Double) {
        self.watch = watch
        self.path = path
        self.version = version
        self.moved = moved
        self.readyAt = readyAt
    }
}

/// A claimed job.
public struct Job: Sendable, Equatable {
    public var id: Int64
    public var watch: String
    public var path: String
    public var version: FileVersion
    public var moved: Bool
    public var attempts: Int
    /// When the file was first seen (wall clock).
    public var discovered: Double
    /// How many times the daemon died while this job ran (or, in a fleet, its lease expired).
    public var crashes: Int = 0
    /// The lease token that fences this claim's completion (0 on one host: no lease).
    public var lease: Int64 = 0
}

/// A job to finish: done or failed, with its classification log line made from its seq.
/// The line is a JSON object whose first member is the seq (`{"seq":N,...`): the PostgreSQL
/// ledger makes it once with seq 0 and puts the real number in when the database assigns it.
public struct Finish {
    public var job: Job
    public var failed: Bool
    public var reason: String?
    public var line: (Int64) -> String

    public init(job: Job, failed: Bool, reason: String?, line: @escaping (Int64) -> String) {
        self.job = job
        self.failed = failed
        self.reason = reason
        self.line = line
    }
}

/// A discovered version the ledger already finished.
public struct FinishedVersion: Sendable {
    public var discovery: Discovery
    public var failed: Bool
    public var reason: String?
}

/// Per-watch counts.
public struct LedgerCounts: Sendable, Equatable {
    public var done = 0, failed = 0, pending = 0, running = 0
}
