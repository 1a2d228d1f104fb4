// InflightMarks: which job each worker is processing right now, in `STATE_DIR/inflight`, one
// 8-byte slot per worker (the ledger row id, 0 when idle). A worker claims rows in batches, so
// after a crash the ledger has several rows `running`; only the ones named here were being
// processed when the process died, and only those count a crash (a poison pill must not fail
// the innocent files claimed with it). The slots are written with pwrite and never fsynced:
// they only need to survive the death of the process, which the page cache does.
#if canImport(Glibc)
import Glibc
#endif

final class InflightMarks: @unchecked Sendable {
    private let fd: Int32

    /// Opens (creating) the file; nil when it cannot be opened, and then no job is marked.
    init?(path: String) {
        fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { return nil }
    }

    deinit { close(fd) }

    /// The row ids in the slots of `path` (a previous process's), or nil when there is no such
    /// file (a ledger from before these marks: every running row counts as crashed).
    static func read(path: String) -> Set<Int64>? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var ids = Set<Int64>()
        var slot: Int64 = 0
        var offset: off_t = 0
        // A sane number of workers: the file is ours, but read no more than 4,096 slots.
        while offset < 4096 * 8, pread(fd, &slot, 8, offset) == 8 {
            if slot != 0 { ids.insert(Int64(littleEndian: slot)) }
            offset += 8
        }
        return ids
    }

    /// Worker `worker` is processing row `id` (0: nothing).
    func mark(_ worker: Int, _ id: Int64) {
        var slot = id.littleEndian
        _ = pwrite(fd, &slot, 8, off_t(worker) * 8)
    }

    /// Every slot empty (at start, after the previous process's marks were read).
    func clearAll() {
        _ = ftruncate(fd, 0)
    }
}
