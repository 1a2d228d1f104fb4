// CommitQueue: processed jobs on their way from the workers to the committer thread, which
// makes their outputs durable and finishes them in the ledger (Daemon+Workers). The workers
// go on with the next files while a group commits; the queue is bounded, so they never run
// more than `limit` jobs ahead of the disk.
import Foundation

final class CommitQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [ProcessedJob] = []
    private var closed = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Adds processed jobs, waiting while the queue is full.
    func submit(_ jobs: [ProcessedJob]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        while items.count >= limit && !closed { condition.wait() }
        items += jobs
        condition.broadcast()
    }

    /// Everything queued, waiting until something is; nil once closed and empty.
    func take() -> [ProcessedJob]? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        defer {
            items.removeAll(keepingCapacity: true)
            condition.broadcast()
        }
        return items
    }

    /// No more submissions: take() returns what is left, then nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A job whose outputs are staged, waiting to be committed.
struct ProcessedJob {
    var job: Job
    var entry: WatchEntry
    var result: JobResult
}
