// EventQueue: the user-space queue between the watcher's owner thread (which only appends)
// and the discovery thread (which lists folders and writes the ledger).
import ConvdWatch
import Foundation

/// What the discovery thread acts on.
enum DaemonEvent: Sendable {
    /// From the watcher.
    case watch(FileEvent)
    /// List a polled (or one-shot) watch's whole tree.
    case walk(rootID: Int)
}

final class EventQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [DaemonEvent] = []
    private var stopped = false

    func append(_ new: [DaemonEvent]) {
        condition.lock()
        events += new
        condition.signal()
        condition.unlock()
    }

    /// Everything queued, waiting up to `timeout` seconds for something; nil once stopped.
    func take(timeout: Double) -> [DaemonEvent]? {
        condition.lock()
        defer { condition.unlock() }
        if events.isEmpty && !stopped { _ = condition.wait(until: Date(timeIntervalSinceNow: timeout)) }
        if stopped { return nil }
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// Whether nothing is waiting.
    var isEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return events.isEmpty
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
