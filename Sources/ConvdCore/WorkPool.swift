// WorkPool: the threads parallelFor hands its chunks to. One job at a time: the caller
// publishes it, runs chunks itself, and waits for the helpers' chunks. Helpers spin for a
// short while after each job before they sleep, so a network's layers (a hundred parallel
// regions of a few tens of microseconds each in MobileNetV2) do not each pay a thread's
// wake-up, which is what Dispatch's concurrentPerform cost — as onnxruntime's and OpenMP's
// spinning pools avoid it. A call made while the pool is busy (a nested region, or another
// thread's) returns false and the caller runs its chunks some other way.
import CConvKernels
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class WorkPool: @unchecked Sendable {
    static let shared = WorkPool()

    /// How long an idle helper spins before it sleeps.
    static let spinSeconds = 100e-6

    /// The job and the helpers' bookkeeping, behind `state`'s lock.
    private struct Job {
        /// The current job's body; nil between jobs (no helper may keep it after the caller
        /// returns: it is the caller's non-escaping closure).
        var body: (@Sendable (Range<Int>) -> Void)?
        var count = 0
        var chunks = 0
        var generation = 0
        /// Helpers that took the current body and have not yet given it back.
        var active = 0
        /// Helpers asleep on `wakeup`.
        var sleepers = 0
        /// Helper threads started.
        var helpers = 0
    }

    private let state = Mutex(Job())
    /// The generation published last: what spinning helpers watch.
    private let published = Atomic<Int>(0)
    /// The next chunk to run, and how many have finished.
    private let next = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)

    /// Runs chunks `0..<chunks` of `0..<count` (chunk i is `count*i/chunks ..< count*(i+1)/chunks`)
    /// on the calling thread and `chunks - 1` helpers at most. False, with nothing run, when
    /// the pool is running another job.
    func run(count: Int, chunks: Int, _ body: @Sendable (Range<Int>) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        let wanted = min(chunks, cpus) - 1
        withoutActuallyEscaping(body) { body in
            let sleeping = state.withLock { s -> Int in
                while s.helpers < wanted {
                    s.helpers += 1
                    startHelper()
                }
                s.body = body
                s.count = count
                s.chunks = chunks
                s.generation += 1
                next.store(0, ordering: .relaxed)
                finished.store(0, ordering: .relaxed)
                published.store(s.generation, ordering: .releasing)
                defer { s.sleepers = 0 }
                return s.sleepers
            }
            for _ in 0..<sleeping { wakeup.signal() }
            Self.work(body, count: count, chunks: chunks, next: next, finished: finished)
            while finished.load(ordering: .acquiring) < chunks { convd_cpu_relax() }
            // Every helper gives the body back before the caller's closure goes out of scope.
            while !state.withLock({ s -> Bool in
                guard s.active == 0 else { return false }
                s.body = nil
                return true
            }) { convd_cpu_relax() }
        }
        return true
    }

    /// Claims and runs chunks until none is left.
    private static func work(_ body: @Sendable (Range<Int>) -> Void, count: Int, chunks: Int, next: borrowing Atomic<Int>,
                             finished: borrowing Atomic<Int>) {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard i < chunks else { return }
            let lower = count * i / chunks, upper = count * (i + 1) / chunks
            if lower < upper { body(lower..<upper) }
            finished.wrappingAdd(1, ordering: .releasing)
        }
    }

    private func helperLoop() {
        var seen = 0
        while true {
            var deadline = 0.0
            var spins = 0
            while published.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 63 != 0 {
                    convd_cpu_relax()
                    continue
                }
                let now = Self.clock()
                if deadline == 0 { deadline = now + Self.spinSeconds }
                guard now >= deadline else { continue }
                let sleep = state.withLock { s -> Bool in
                    guard s.generation == seen else { return false }
                    s.sleepers += 1
                    return true
                }
                if sleep { wakeup.wait() }
                deadline = 0
            }
            if !checkIn(&seen) { continue }
            checkOut()
        }
    }

    /// Takes the current job, if any (`seen` becomes its generation), runs chunks of it, and
    /// lets go of its body; false when there was none.
    private func checkIn(_ seen: inout Int) -> Bool {
        var generation = seen
        let job = state.withLock { s -> (body: @Sendable (Range<Int>) -> Void, count: Int, chunks: Int)? in
            generation = s.generation
            guard let body = s.body else { return nil }
            s.active += 1
            return (body, s.count, s.chunks)
        }
        seen = generation
        guard let job else { return false }
        Self.work(job.body, count: job.count, chunks: job.chunks, next: next, finished: finished)
        return true
    }

    /// Gives the job back (after checkIn returned, so nothing of it is held any more).
    private func checkOut() {
        state.withLock { $0.active -= 1 }
    }

    private func startHelper() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { context in
            Unmanaged<WorkPool>.fromOpaque(context!).takeRetainedValue().helperLoop()
            return nil
        }, context)
        precondition(created == 0, "cannot start a worker thread (pthread_create: \(created))")
        pthread_detach(thread)
    }

    /// The cores online, read once (glibc reads /sys for it on every call).
    private let cpus = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    private static func clock() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
