// Clocks and the machine's size: wall time for the ledger and logs, monotonic time for
// durations and heartbeats, and the number of cores online.
#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock seconds since the epoch (the ledger's time).
public func wallClock() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_REALTIME, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Monotonic seconds (durations and heartbeats).
public func monotonicClock() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Seconds since boot, counting time suspended (leases: a lease held before a suspend has
/// run on at the database meanwhile, which CLOCK_MONOTONIC would not show).
public func leaseClock() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_BOOTTIME, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// The cores online, the default thread and worker count.
public var onlineCoreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
