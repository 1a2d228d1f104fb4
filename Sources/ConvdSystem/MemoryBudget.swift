// MemoryBudget: how much memory this process may use — the tightest `memory.high` or
// `memory.max` of its cgroup (v2) and the cgroups above it, which is where the unit's
// MemoryHigh=/MemoryMax= land, else the machine's physical memory — and from it the default
// memory one job may take when `workers` jobs run at once.
#if canImport(Glibc)
import Glibc
#endif

public enum MemoryBudget {
    /// What the process keeps for itself besides the jobs: the runtime, libraries, the ledger,
    /// the event queue (the model instances are added by the caller).
    public static let reserve = 192 << 20

    /// The smallest job budget a default gives, so that a tight cgroup still admits small images.
    public static let floor = 32 << 20

    /// Bytes the process may use: the tightest cgroup limit above it, else physical memory.
    public static func processLimit() -> Int {
        min(cgroupLimit() ?? .max, physicalMemory())
    }

    /// The default `max_job_bytes`: what is left of `limit` after the reserve and `resident`
    /// bytes (model instances), shared by `workers` jobs.
    public static func defaultJobBytes(workers: Int, resident: Int = 0, limit: Int = processLimit()) -> Int {
        let free = limit - reserve - resident
        return max(floor, free / max(1, workers))
    }

    /// The machine's memory.
    public static func physicalMemory() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return 1 << 30 }
        return pages.multipliedReportingOverflow(by: size).overflow ? .max : pages * size
    }

    /// The tightest limit from this process's cgroup up to the root: memory.high and
    /// memory.max under cgroup v2, memory.limit_in_bytes under v1; nil where there is none.
    static func cgroupLimit() -> Int? {
        guard let membership = try? FileIO.readAll("/proc/self/cgroup", limit: 1 << 16) else { return nil }
        var tightest: Int?
        for line in String(decoding: membership, as: UTF8.self).split(separator: "\n") {
            // "0::/system.slice/convd.service" (v2) or "4:memory:/system.slice/convd.service" (v1).
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = String(fields[2])
            if fields[1].isEmpty {
                tightest = min(tightest ?? .max, walk("/sys/fs/cgroup", path, ["memory.high", "memory.max"]) ?? .max)
            } else if fields[1].split(separator: ",").contains("memory") {
                tightest = min(tightest ?? .max, walk("/sys/fs/cgroup/memory", path, ["memory.limit_in_bytes"]) ?? .max)
            }
        }
        return tightest == .max ? nil : tightest
    }

    /// The smallest value of `files` in `mount + path` and every folder above it up to `mount`
    /// (inside a container the path may name a folder the mount does not show: then only
    /// the folders that exist count).
    private static func walk(_ mount: String, _ path: String, _ files: [String]) -> Int? {
        var folder = mount + (path == "/" ? "" : path)
        var tightest: Int?
        while true {
            for file in files {
                if let value = limitValue(folder + "/" + file) { tightest = min(tightest ?? .max, value) }
            }
            guard folder.count > mount.count, let slash = folder.lastIndex(of: "/") else { break }
            folder = String(folder[..<slash])
        }
        return tightest
    }

    /// The number in a cgroup limit file, nil for "max" or a file that is not there.
    static func limitValue(_ path: String) -> Int? {
        guard let bytes = try? FileIO.readAll(path, limit: 64) else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace })
    }
}
