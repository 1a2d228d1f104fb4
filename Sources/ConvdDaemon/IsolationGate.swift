// IsolationGate: lets a job that has already crashed the daemon run alone. Ordinary jobs pass
// together (shared); a suspect job (crashes > 0) waits until no other job is being processed
// and keeps the others out while it runs (exclusive). So when the process dies during a
// suspect, the crash counts against that file only, never against an innocent file another
// worker happened to be processing — after the first crash, the files that were in progress
// each get a run of their own, and only the one that kills the daemon again is failed. A
// waiting suspect goes before new ordinary jobs.
import Foundation

final class IsolationGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var shared = 0
    private var exclusive = false
    private var waitingExclusive = 0

    /// Runs `body` alone when `alone`, else beside other ordinary jobs.
    func run<T>(alone: Bool, _ body: () -> T) -> T {
        condition.lock()
        if alone {
            waitingExclusive += 1
            while exclusive || shared > 0 { condition.wait() }
            waitingExclusive -= 1
            exclusive = true
        } else {
            while exclusive || waitingExclusive > 0 { condition.wait() }
            shared += 1
        }
        condition.unlock()
        defer {
            condition.lock()
            if alone { exclusive = false } else { shared -= 1 }
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }
}
