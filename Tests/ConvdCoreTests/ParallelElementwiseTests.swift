// parallelElementwise: every index exactly once in chunks that start on 16-value boundaries,
// split only when each thread gets parallelElementwiseMinimum values; and the element-wise
// helpers it runs (VectorOps.add, the out-of-place rectifier gradient) against their scalar
// definitions, vector body and tail alike.
@testable import ConvdCore
import Synchronization
import Testing

@Suite("parallelElementwise")
struct ParallelElementwiseTests {
    @Test("every index once; chunks aligned to 16; split only past the minimum")
    func coverage() {
        let m = parallelElementwiseMinimum
        for count in [0, 1, 17, m - 1, 2 * m - 1, 2 * m, 2 * m + 5, 3 * m + 31] {
            for threads in [1, 2, 3] {
                var seen = [Int](repeating: 0, count: count)
                let chunks = Mutex<[Range<Int>]>([])
                seen.withUnsafeMutableBufferPointer { buffer in
                    let p = SharedPointer(buffer.baseAddress!)
                    parallelElementwise(count, threads: threads) { range in
                        chunks.withLock { $0.append(range) }
                        for i in range { p.pointer[i] += 1 }
                    }
                }
                #expect(seen == [Int](repeating: 1, count: count), "count \(count) threads \(threads)")
                let ranges = chunks.withLock { $0 }
                #expect(ranges.allSatisfy { $0.lowerBound % 16 == 0 }, "count \(count) threads \(threads)")
                #expect(ranges.count == max(count > 0 ? 1 : 0, min(threads, count / m)), "count \(count) threads \(threads)")
            }
        }
    }

    @Test("VectorOps.add and the out-of-place rectifier gradient equal their scalar definitions")
    func helpers() {
        let count = 53  // three vectors and a tail of 5
        let a: [Float] = (0..<count).map { i in
            let offset: Float = i % 3 == 0 ? 0.25 : -0.75
            return Float(i % 7) - 3.5 + offset
        }
        // Zero at 1, 12, 23, …: a reference ≤ 0 there, so negative ∂Y times slope 0 gives -0.
        let b: [Float] = (0..<count).map { i in Float((i * 5) % 11) - 5 }
        var sum = [Float](repeating: .nan, count: count)
        VectorOps.add(a, b, into: &sum, count: count)
        let sums: [UInt32] = (0..<count).map { i in (a[i] + b[i]).bitPattern }
        #expect(sum.map { $0.bitPattern } == sums)
        var reference = b
        reference[3] = .nan
        reference[50] = .nan  // NaN passes ∂Y through (it is not ≤ 0), in the vector body and the tail
        reference[4] = -0.0
        for slope: Float in [0, 0.1] {
            var out = [Float](repeating: .nan, count: count)
            VectorOps.rectifierGradient(a, reference: reference, slope: slope, into: &out, count: count)
            let expected: [UInt32] = (0..<count).map { i in
                let g: Float = reference[i] <= 0 ? a[i] * slope : a[i]
                return g.bitPattern
            }
            #expect(out.map { $0.bitPattern } == expected, "slope \(slope)")
            var inPlace = a
            VectorOps.rectifierGradient(&inPlace, reference: reference, slope: slope, count: count)
            #expect(inPlace.map { $0.bitPattern } == expected, "slope \(slope)")
        }
    }
}
