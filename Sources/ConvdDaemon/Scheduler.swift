// Scheduler: hands ready jobs from the ledger to the worker threads in discovery order. It
// claims a few rows at a time (marking them running), sleeps until the next pending row's
// ready time or a wake-up from discovery, and on stop returns what it had claimed but not
// handed out, so those rows go back to pending.
import ConvdSystem
import Foundation

final class Scheduler: @unchecked Sendable {
    private let ledger: any Ledger
    private let condition = NSCondition()
    private var buffer: [Job] = []
    private var stopping = false
    private var woken = false
    private let onError: @Sendable (String) -> Void

    /// Rows claimed (marked running) at a time: `claimLimit`, doubled after each claim that
    /// came back full (a backlog: fewer round trips to the ledger, which every worker waits
    /// for) up to `claimLimitInBurst`, and back to `claimLimit` once a claim finds fewer. A
    /// few files are still spread over the workers (and over the nodes of a fleet).
    static let claimLimit = 16
    static let claimLimitInBurst = 64
    private var claimSize = claimLimit

    /// Whether stop() was called.
    var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopping
    }

    init(ledger: any Ledger, onError: @escaping @Sendable (String) -> Void) {
        self.ledger = ledger
        self.onError = onError
    }

    /// The next jobs, blocking until at least one is ready; nil once stopping. A worker takes
    /// its share of what is claimed (`1/sharers`, at most `limit`), so a few ready files are
    /// spread over the workers and a burst is taken in batches.
    /// - Precondition: `limit` and `sharers` are at least 1.
    func next(upTo limit: Int, sharers: Int) -> [Job]? {
        precondition(limit >= 1 && sharers >= 1, "a worker takes at least one job, and shares with itself")
        condition.lock()
        defer { condition.unlock() }
        while !stopping {
            if !buffer.isEmpty {
                let share = min(limit, (buffer.count + sharers - 1) / sharers)
                defer { buffer.removeFirst(share) }
                return Array(buffer.prefix(share))
            }
            let now = wallClock()
            var wait = 1.0
            do {
                let jobs = try ledger.claim(limit: claimSize, now: now)
                claimSize = jobs.count == claimSize ? min(claimSize * 2, Self.claimLimitInBurst) : Self.claimLimit
                if !jobs.isEmpty {
                    buffer = jobs
                    continue
                }
                if let ready = try ledger.nextReadyAt() { wait = min(wait, max(0.002, ready - now)) }
            } catch {
                onError("ledger: \(error)")
            }
            if !woken { _ = condition.wait(until: Date(timeIntervalSinceNow: wait)) }
            woken = false
        }
        return nil
    }

    /// New work may be ready.
    func wake() {
        condition.lock()
        woken = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops handing out jobs; returns the claimed jobs not handed out.
    func stop() -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        defer { buffer.removeAll() }
        return buffer
    }
}
