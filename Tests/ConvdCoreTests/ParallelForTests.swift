// parallelFor on WorkPool's spinning helpers: every index runs exactly once, whatever the
// split; a region inside a region and regions from several threads at once (which the pool
// hands to Dispatch) are as correct; thousands of short regions in a row neither hang nor
// lose a chunk (a helper that sleeps between them is woken).
@testable import ConvdCore
import Dispatch
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("parallelFor")
struct ParallelForTests {
    /// Runs one region over `count` and returns how often each index ran.
    private func visits(_ count: Int, threads: Int) -> [Int] {
        var seen = [Int](repeating: 0, count: count)
        seen.withUnsafeMutableBufferPointer { buffer in
            let p = SharedPointer(buffer.baseAddress!)
            parallelFor(count, threads: threads) { range in
                for i in range { p.pointer[i] += 1 }
            }
        }
        return seen
    }

    @Test("every index once, for any count and thread count")
    func coverage() {
        for count in [0, 1, 2, 3, 7, 64, 1000] {
            for threads in [1, 2, 3, 8] {
                #expect(visits(count, threads: threads) == [Int](repeating: 1, count: count), "count \(count) threads \(threads)")
            }
        }
    }

    @Test("10,000 short regions in a row, with pauses that put the helpers to sleep")
    func manyRegions() {
        for round in 0..<10_000 {
            if round % 1000 == 999 { usleepSeconds(0.002) }  // past the spin: helpers sleep
            #expect(visits(16, threads: 2) == [Int](repeating: 1, count: 16))
        }
    }

    @Test("a region inside a region, and regions from four threads at once")
    func nestedAndConcurrent() {
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<500 where visits(100, threads: 2) != [Int](repeating: 1, count: 100) {
                failures.wrappingAdd(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let total = Atomic<Int>(0)
        parallelFor(4, threads: 2) { outer in
            for _ in outer {
                parallelFor(10, threads: 2) { inner in total.wrappingAdd(inner.count, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 40)
    }
}

private func usleepSeconds(_ seconds: Double) {
    var t = timespec(tv_sec: 0, tv_nsec: Int(seconds * 1e9))
    nanosleep(&t, nil)
}
