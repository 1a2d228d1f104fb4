// InflightMarks: which job each worker is processing right now, in `STATE_DIR/inflight`, one
// 8-byte slot per worker (the ledger row id, 0 when idle). A worker claims rows in batches, so
// after a crash the ledger has several rows `running`; only the ones named here were being
// processed when the process died, and only those count a crash (a poison pill must not fail
// the innocent files claimed with it). The slots are written with pwrite and never fsynced:
// they only need to survive the death of the process, which the page cache does. The marks
// fail safe: when the file cannot be prepared or a mark cannot be written, the file is
// removed, and the next start counts a crash against every running row, as without marks.
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

final class InflightMarks: @unchecked Sendable {
    private let path: String
    private let fd: Int32
    private let slots: Int
    private let broken = Mutex(false)

    /// Opens (creating) the file with `slots` empty slots written out; nil (and no file) when
    /// that fails, and then no job is marked.
    init?(path: String, slots: Int) {
        self.path = path
        self.slots = slots
        fd = Glibc.open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
        let zeros = [UInt8](repeating: 0, count: slots * 8)
        guard fd >= 0, pwrite(fd, zeros, zeros.count, 0) == zeros.count else {
            if fd >= 0 { close(fd) }
            unlink(path)
            return nil
        }
    }

    deinit { close(fd) }

    /// The row ids in the slots of `path` (a previous process's), or nil when there is no such
    /// file (a ledger from before these marks, or marks that failed: every running row counts).
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

    /// Worker `worker` is processing row `id` (0: nothing). A slot that cannot be written
    /// removes the file (fail safe).
    func mark(_ worker: Int, _ id: Int64) {
        guard worker < slots else { return }
        var slot = id.littleEndian
        guard pwrite(fd, &slot, 8, off_t(worker) * 8) != 8 else { return }
        broken.withLock { broken in
            if !broken { unlink(path) }
            broken = true
        }
    }

    /// Every slot empty (a stop that left a job running past stop_timeout: that is no crash).
    func clearAll() {
        for worker in 0..<slots { mark(worker, 0) }
    }
}
