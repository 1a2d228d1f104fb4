// Timing: run a closure several times and report the median, minimum and maximum in ms.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Milliseconds on the monotonic clock.
func nowMilliseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) / 1_000_000
}

/// Times `body` `runs` times after one warm-up run.
func measure(runs: Int, _ body: () -> Void) -> (median: Double, min: Double, max: Double) {
    body()
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = nowMilliseconds()
        body()
        samples.append(nowMilliseconds() - start)
    }
    samples.sort()
    let mid = samples.count / 2
    let median = samples.count % 2 == 1 ? samples[mid] : (samples[mid - 1] + samples[mid]) / 2
    return (median, samples.first ?? 0, samples.last ?? 0)
}

/// One JSON line: the given fields, then (when `timed`) ms_median, ms_min and ms_max.
func report(_ fields: [(String, String)], _ timing: (median: Double, min: Double, max: Double), timed: Bool = true) {
    let all = fields + (timed ? [("ms_median", format(timing.median)), ("ms_min", format(timing.min)),
                                 ("ms_max", format(timing.max))] : [])
    print("{" + all.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
}

func format(_ v: Double) -> String {
    String(Double((v * 10000).rounded() / 10000))
}

func quoted(_ s: String) -> String { "\"\(s)\"" }
