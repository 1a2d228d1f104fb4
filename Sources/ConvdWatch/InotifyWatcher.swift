// InotifyWatcher: the FileEventSource over libinotifytools. The library keeps one
// process-global inotify instance and is not thread-safe, so one owner thread makes every
// call into it: it applies queued commands (add, remove, rescan a root), waits for events
// and copies them into `FileEvent`s handed to the sink in batches. Its only file-system work
// is walking folders to watch them: each folder is watched *before* it is listed for
// subfolders, so a folder created in between shows up either as an event or in the listing.
import CInotifyTools
import Foundation
import Synchronization

/// Watches folder trees with inotify on its own thread.
public final class InotifyWatcher: FileEventSource, @unchecked Sendable {
    private enum Command {
        case add(WatchedRoot), remove(Int), rescan(Int), stop
    }

    // inotify(7) bits, spelled out because some of the C macros import with awkward types.
    static let closeWrite: UInt32 = 0x8, movedFrom: UInt32 = 0x40, movedTo: UInt32 = 0x80, create: UInt32 = 0x100
    static let deleteSelf: UInt32 = 0x400, moveSelf: UInt32 = 0x800, overflow: UInt32 = 0x4000
    static let ignored: UInt32 = 0x8000, isDir: UInt32 = 0x4000_0000
    static let onlyDir: UInt32 = 0x0100_0000, dontFollow: UInt32 = 0x0200_0000, exclUnlink: UInt32 = 0x0400_0000
    static let mask = closeWrite | movedFrom | movedTo | create | deleteSelf | moveSelf | onlyDir | dontFollow | exclUnlink

    private let sink: @Sendable ([FileEvent]) -> Void
    private let commands = Mutex<[Command]>([])
    private let beat = Mutex<Double>(0)
    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    // Owned by the thread.
    private var roots: [WatchedRoot] = []
    private var movedAway: [UInt32: String] = [:]
    private var goneCount = 0
    private var batch: [FileEvent] = []

    /// A watcher reporting to `sink` (called on the owner thread, in event order).
    public init(sink: @escaping @Sendable ([FileEvent]) -> Void) {
        self.sink = sink
        beat.withLock { $0 = Self.now() }
        let thread = Thread { [self] in self.run() }
        thread.name = "convd-inotify"
        self.thread = thread
        thread.start()
    }

    public func add(_ root: WatchedRoot) { commands.withLock { $0.append(.add(root)) } }
    public func remove(rootID: Int) { commands.withLock { $0.append(.remove(rootID)) } }

    public func rescan(rootID: Int) {
        commands.withLock { queue in
            // At most one rescan of a root waits at a time: a second request adds nothing.
            let queued = queue.contains { if case .rescan(let id) = $0 { return id == rootID } else { return false } }
            if !queued { queue.append(.rescan(rootID)) }
        }
    }

    public var heartbeat: Double { beat.withLock { $0 } }

    public func stop() {
        commands.withLock { $0.append(.stop) }
        finished.wait()
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    private func run() {
        defer { finished.signal() }
        guard inotifytools_initialize() != 0 else {
            let reason = "cannot start inotify: \(String(cString: strerror(inotifytools_error())))"
            while true {
                let pending = commands.withLock { q in defer { q.removeAll() }; return q }
                for case .add(let root) in pending { sink([.rootLost(root: root.id, reason: reason)]) }
                if pending.contains(where: { if case .stop = $0 { true } else { false } }) { return }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        defer { inotifytools_cleanup() }
        while true {
            let pending = commands.withLock { q in defer { q.removeAll() }; return q }
            for command in pending {
                switch command {
                case .add(let root):
                    roots.removeAll { $0.id == root.id }
                    roots.append(root)
                    walk(root)
                case .remove(let id):
                    if let root = roots.first(where: { $0.id == id }) { forget(root.path) }
                    roots.removeAll { $0.id == id }
                case .rescan(let id):
                    if let root = roots.first(where: { $0.id == id }) { walk(root) }
                case .stop:
                    flush()
                    return
                }
            }
            flush()
            // Wait up to a second (the library counts whole seconds; 0 would block for good).
            // The library reads every queued event at once and hands them out one per call,
            // so each is passed on at once: there is no way to ask whether more are buffered.
            let event = inotifytools_next_event(1)
            beat.withLock { $0 = Self.now() }
            if let event {
                handle(event)
            } else {
                settleMovedAway()
            }
        }
    }

    private func flush() {
        guard !batch.isEmpty else { return }
        sink(batch)
        batch.removeAll(keepingCapacity: true)
    }

    /// The root a watched folder path (with trailing slash) belongs to.
    private func root(of folder: String) -> WatchedRoot? {
        roots.filter { folder == $0.path + "/" || folder.hasPrefix($0.path + "/") }.max { $0.path.count < $1.path.count }
    }

    private func handle(_ event: UnsafeMutablePointer<inotify_event>) {
        let mask = event.pointee.mask
        // The kernel queues a rename's MOVED_FROM and MOVED_TO together: anything else after a
        // folder's MOVED_FROM means it left the tree.
        if !movedAway.isEmpty && (mask & Self.movedTo == 0 || movedAway[event.pointee.cookie] == nil) {
            settleMovedAway()
        }
        if mask & Self.overflow != 0 {
            batch.append(.overflow)
            return
        }
        guard let cFolder = inotifytools_filename_from_wd(event.pointee.wd) else { return }
        let folder = String(cString: cFolder)
        guard let root = root(of: folder) else { return }
        var name = ""
        if event.pointee.len > 0 {
            let raw = UnsafeRawPointer(event).advanced(by: MemoryLayout<inotify_event>.size)
                .assumingMemoryBound(to: UInt8.self)
            let bytes = UnsafeBufferPointer(start: raw, count: Int(event.pointee.len)).prefix { $0 != 0 }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                // libinotifytools names watches by text: a name that is not UTF-8 cannot be
                // named to it. A file is found by listing its folder (by bytes); a folder cannot
                // be watched, so the daemon polls this root instead.
                if mask & Self.isDir != 0 {
                    if root.recursive && mask & (Self.create | Self.movedTo) != 0 {
                        batch.append(.unwatchable(root: root.id, path: String(folder.dropLast()),
                                                  reason: "a folder name is not valid UTF-8"))
                    }
                } else if mask & (Self.closeWrite | Self.movedTo) != 0 {
                    batch.append(.folder(root: root.id, path: String(folder.dropLast())))
                }
                return
            }
            name = text
        }
        let path = String(folder.dropLast()) + (name.isEmpty ? "" : "/" + name)
        if mask & (Self.deleteSelf | Self.moveSelf) != 0 {
            if folder == root.path + "/" {
                forget(root.path, dropWatch: mask & Self.deleteSelf == 0)  // a deleted folder's watch is gone
                roots.removeAll { $0.id == root.id }
                batch.append(.rootLost(root: root.id, reason: mask & Self.deleteSelf != 0 ? "deleted" : "renamed away"))
            }
            return
        }
        if name.isEmpty || root.filter.ignores(name) { return }
        if mask & Self.isDir != 0 {
            guard root.recursive else { return }
            if mask & Self.movedFrom != 0 {
                movedAway[event.pointee.cookie] = path
            } else if mask & (Self.create | Self.movedTo) != 0 {
                if mask & Self.movedTo != 0, let old = movedAway.removeValue(forKey: event.pointee.cookie) {
                    inotifytools_replace_filename(old + "/", path + "/")  // renamed inside the tree
                }
                walk(root, from: path)
            }
            return
        }
        if mask & Self.closeWrite != 0, root.filter.accepts(file: name) {
            batch.append(.file(root: root.id, path: path, moved: false))
        } else if mask & Self.movedTo != 0, root.filter.accepts(file: name) {
            batch.append(.file(root: root.id, path: path, moved: true))
        }
    }

    /// Folders renamed out of the tree (a MOVED_FROM not followed by its MOVED_TO):
    /// their watches now point elsewhere, so their names are parked outside every root.
    private func settleMovedAway() {
        for (_, old) in movedAway {
            goneCount += 1
            inotifytools_replace_filename(old + "/", "/\u{1}convd-moved-away/\(goneCount)/")
        }
        movedAway.removeAll()
    }

    /// Parks the watches of a tree that is no longer ours, then drops the root's own watch.
    private func forget(_ path: String, dropWatch: Bool = true) {
        let wd = inotifytools_wd_from_filename(path + "/")
        goneCount += 1
        inotifytools_replace_filename(path + "/", "/\u{1}convd-moved-away/\(goneCount)/")
        if dropWatch && wd >= 0 { inotifytools_remove_watch_by_wd(wd) }
    }

    /// Watches `start` (default: the root) and its folders, each before listing it, and
    /// reports each as `.folder`; reports `.established` after a whole-root walk.
    private func walk(_ root: WatchedRoot, from start: String? = nil) {
        var limitReported = false
        var rootFailed: String?
        // Symlinked folders are never entered, even with follow_symlinks (which follows links to
        // files only): two links to the root made the walk exponential (audit #11).
        var unwatchableReported = false
        FolderListing.folders(under: start ?? root.path, recursive: root.recursive, filter: root.filter,
                              followSymlinks: false) { folder in
            guard inotifytools_watch_file(folder + "/", Int32(bitPattern: Self.mask)) != 0 else {
                let error = inotifytools_error()
                if error == ENOSPC {
                    if !limitReported { batch.append(.watchLimit(root: root.id, path: folder)) }
                    limitReported = true
                } else if folder == root.path {
                    rootFailed = String(cString: strerror(error))
                } else if error == ENOENT && folder.unicodeScalars.contains("\u{FFFD}") && !unwatchableReported {
                    // Listed by text, a name that is not UTF-8 names no folder: poll the root.
                    batch.append(.unwatchable(root: root.id, path: folder, reason: "a folder name is not valid UTF-8"))
                    unwatchableReported = true
                }
                return false
            }
            batch.append(.folder(root: root.id, path: folder))
            return true
        }
        if let rootFailed {
            roots.removeAll { $0.id == root.id }
            batch.append(.rootLost(root: root.id, reason: rootFailed))
        } else if start == nil {
            batch.append(.established(root: root.id))
        }
    }
}
