// CommitQueue: processed jobs on their way from the workers to the committer thread, which
// makes their outputs durable and finishes them in the ledger (Daemon+Workers). The workers
// go on with the next files while a group commits. The queue is bounded by the staged files it
// holds (each an open descriptor), so the workers never run more than `limit` files ahead of
// the disk; a job with more outputs than that is still taken when the queue is empty.
import Foundation

final class CommitQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [ProcessedJob] = []
    private var files = 0
    private var closed = false
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Adds a processed job, waiting while the queue is full.
    func submit(_ job: ProcessedJob) {
        let count = job.result.staged.count
        condition.lock()
        defer { condition.unlock() }
        while !items.isEmpty && files + count > limit && !closed { condition.wait() }
        items.append(job)
        files += count
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
            files = 0
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
