// LedgerOpening: the backend `[daemon] ledger` names — SQLite in the state folder, or the
// fleet's PostgreSQL database — opened for the daemon (a node: crash accounting, registration)
// or for a command that only reads or queues (`convd status`, `log`, `retry`).
import ConvdConfig

extension DaemonSettings {
    /// Opens the ledger. `node` (the daemon) returns the previous run's running jobs to pending,
    /// those in `crashed` counting a crash; commands pass false and change nothing of the sort.
    public func openLedger(node: Bool, crashed: Set<Int64>? = nil,
                           onError: @escaping @Sendable (String) -> Void = { _ in }) throws(DaemonError) -> any Ledger {
        switch ledger {
        case .sqlite:
            let path = stateDir + "/ledger.sqlite"
            do {
                return try SQLiteLedger(path: path, resetRunning: node, crashed: crashed)
            } catch {
                throw DaemonError("\(path): cannot open the ledger: \(error)")
            }
        case .postgres(let uri):
            do {
                return try PostgresLedger(uri: uri, node: nodeName, leaseSeconds: leaseSeconds, register: node,
                                          crashed: crashed, onError: onError)
            } catch {
                throw DaemonError("ledger \(PostgresConnection.redacted(uri)): \(error)")
            }
        }
    }

    /// Whether the ledger is shared by a fleet of nodes.
    public var sharedLedger: Bool {
        if case .postgres = ledger { return true }
        return false
    }
}
