// StatusFile: the daemon's state as JSON (`status_file`, default STATE_DIR/status.json),
// rewritten atomically every couple of seconds; `convd status` prints it.
import ConvdImage
import ConvdSystem
import Foundation

/// A snapshot of the daemon.
public struct DaemonStatus: Codable, Sendable, Equatable {
    /// One watch's state.
    public struct Watch: Codable, Sendable, Equatable {
        public var name: String
        public var input: String
        /// `inotify`, `poll (why)`, `degraded (why)` or `starting`.
        public var mode: String
        public var processed: Int
        public var failed: Int
        public var queued: Int
        /// Why jobs are held back, when they are.
        public var blocked: String?
    }

    public var pid: Int32
    public var started: String
    public var updated: String
    /// `starting`, `running`, `reloading`, `stopping`.
    public var state: String
    public var overflows: Int
    public var rescans: Int
    public var watches: [Watch]
    /// A fleet (PostgreSQL ledger): this node's name, and every node as the ledger knows it.
    /// The counts of the watches are then the fleet's.
    public var node: String?
    public var nodes: [LedgerNode]?
    /// What is wrong with the ledger, when something is (a fleet node that lost its database).
    public var ledger: String?

    /// `processed N, failed F, queued Q` (+ what is blocked): the systemd STATUS text.
    public var summary: String {
        let processed = watches.reduce(0) { $0 + $1.processed }
        let failed = watches.reduce(0) { $0 + $1.failed }
        let queued = watches.reduce(0) { $0 + $1.queued }
        var text = "\(state): processed \(processed), failed \(failed), queued \(queued)"
        let blocked = watches.compactMap { w in w.blocked.map { "\(w.name): \($0)" } }
        if !blocked.isEmpty { text += "; blocked: " + blocked.joined(separator: "; ") }
        let degraded = watches.filter { $0.mode.hasPrefix("degraded") }.map(\.name)
        if !degraded.isEmpty { text += "; degraded: " + degraded.joined(separator: ", ") }
        if let ledger { text += "; ledger: " + ledger }
        return text
    }

    /// Writes the snapshot to `path` atomically.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileIO.writeAtomically(Array(try encoder.encode(self)) + [0x0A], to: path)
    }

    /// Reads a snapshot.
    public static func read(from path: String) throws -> DaemonStatus {
        try JSONDecoder().decode(DaemonStatus.self, from: Data(FileIO.readAll(path, limit: 16 << 20)))
    }
}

/// ISO 8601 UTC with milliseconds: `2026-11-24T12:00:00.123Z`.
func isoTime(_ seconds: Double) -> String {
    var t = time_t(seconds.rounded(.down))
    var parts = tm()
    gmtime_r(&t, &parts)
    let ms = Int((seconds - seconds.rounded(.down)) * 1000)
    func pad(_ v: Int32, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ms), 3))Z"
}
