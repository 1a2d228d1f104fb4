// PostgresLedger+Wakeups: LISTEN/NOTIFY, so that an idle node starts on new work at once
// rather than at its next poll (the scheduler's one-second wait stays as the backstop). A node
// that records new versions, rescues expired leases or gives jobs back at a clean stop sends a
// notification on `convd_work` when its statement has committed; every node listens on a
// connection of its own and wakes its scheduler, ignoring its own notifications. After the
// listening connection was lost and made again, the node wakes once: what was sent meanwhile
// is gone.
import ConvdSystem
import Foundation

extension PostgresLedger {
    static let workChannel = "convd_work"

    /// Tells the other nodes that rows are ready (after the statement that made them so has
    /// committed: a notification is delivered at commit). A lost notification only costs the
    /// others a poll, so a failure here fails nothing else.
    func announceWork(on db: PostgresConnection) {
        _ = try? db.query("SELECT pg_notify('\(Self.workChannel)', $1)", [.text(incarnation)])
    }

    public func watchForWork(_ wake: @escaping @Sendable () -> Void) {
        let uri = self.uri, incarnation = self.incarnation
        let thread = Thread { [self] in
            var connection: PostgresConnection?
            var generation = 0
            var pause = 0.5
            while !state.withLock({ $0.listenerStopped }) {
                do {
                    let db = try connection ?? PostgresConnection(uri: uri, setup: "LISTEN \(Self.workChannel)")
                    connection = db
                    let payloads = try db.notifications(timeout: 0.5)
                    pause = 0.5
                    let reconnected = db.generation != generation
                    generation = db.generation
                    if reconnected || payloads.contains(where: { $0 != incarnation }) { wake() }
                } catch {
                    // The heartbeat reports the database being away; here, only try again,
                    // backing off as the other sessions do.
                    Thread.sleep(forTimeInterval: pause)
                    pause = min(pause * 2, 10)
                }
            }
        }
        thread.name = "convd-listen"
        thread.start()
    }

    /// Stops the listener thread (within half a second).
    func stopWatchingForWork() {
        state.withLock { $0.listenerStopped = true }
    }
}
